export { getTurnStatus, type TurnStatusView } from './turn-status.js';
export { openTurnEvents, followTurnEvents } from './follow-turn-events.js';
export { resumeTurn } from './resume-turn.js';
export { decideApproval, type ApprovalDecision } from './decide-approval.js';
export { listApprovals } from './list-approvals.js';
export { expireApprovals } from './expire-approvals.js';
