import type { ApprovalRecord } from '../../ports/store.js';
import type { ToolContext, ToolOutcome, ToolSet } from '../../ports/tools.js';
import { cleanJson } from '../../shared/text-hygiene.js';
import type { AppContext } from '../context.js';
import type { TurnEventLog } from '../turn-event-log.js';
import type { IterationRecord, TurnResume } from '../turn/index.js';
import type { IterationOwner } from './save-iteration.js';
import { toolResultData } from './turn-sink.js';

/**
 * What a turn that runs again goes on from: its committed iterations, and the outcome of every call
 * that waited for a person. A call decided since the pause gets its outcome now — an approved call
 * runs (the policy still decides: approval never overrides a denial), a denied or expired one becomes
 * the tool error the model sees — stored on its approval at once, so nothing ever runs twice, and
 * streamed as `tool.result`. Outcomes stored earlier are reused as they are.
 */
export async function resolveApprovals(
  ctx: Pick<AppContext, 'store' | 'logger'>,
  {
    owner,
    log,
    toolSet,
    toolContext,
    records,
    approvals,
    signal,
  }: { owner: IterationOwner; log: TurnEventLog; toolSet: ToolSet | undefined; toolContext: Omit<ToolContext, 'iteration' | 'signal' | 'approvedCalls'>; records: IterationRecord[]; approvals: ApprovalRecord[]; signal: AbortSignal },
): Promise<TurnResume> {
  const resolvedCalls = new Map<number, ToolOutcome[]>();
  for (const approval of approvals) {
    if (approval.status === 'pending') continue;
    let outcome = approval.outcome;
    if (!outcome) {
      outcome = await decidedOutcome(approval, toolSet, { ...toolContext, iteration: approval.iterationNumber, signal });
      await ctx.store.approvals.setOutcome(owner.turnId, approval.callId, outcome);
      log.emit('tool.result', toolResultData(approval.iterationNumber, outcome));
    }
    resolvedCalls.set(approval.iterationNumber, [...(resolvedCalls.get(approval.iterationNumber) ?? []), outcome]);
  }
  return { records, resolvedCalls };
}

/** The outcome a decision gives a call: the tool's own when approved (and still allowed), else a denial. */
async function decidedOutcome(approval: ApprovalRecord, toolSet: ToolSet | undefined, context: ToolContext): Promise<ToolOutcome> {
  const call = { callId: approval.callId, name: approval.tool, args: approval.args };
  const refused = (error: string): ToolOutcome => ({ ...call, ok: false, outcome: 'denied', error, latency_ms: 0 });
  if (approval.status === 'expired') return refused(`${approval.tool} was not run: nobody decided on it in time, which counts as denied`);
  if (approval.status === 'denied') return refused(`${approval.tool} was denied by ${approval.decidedBy ?? 'a person'}${approval.reason ? `: ${approval.reason}` : ''}`);
  if (!toolSet) return { ...call, ok: false, outcome: 'error', error: `${approval.tool} was approved but tools are off for this turn (degraded mode)`, latency_ms: 0 };
  const [outcome] = await toolSet.run([call], { ...context, approvedCalls: new Map([[approval.callId, approval.decidedBy ?? 'a person']]) });
  return outcome ? cleanJson(outcome).value : refused(`${approval.tool} produced no outcome`);
}
