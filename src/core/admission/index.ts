export { admitCapsuleInput, type AdmissibleCapsuleInput, type AdmissionRules } from './admit-capsule-input.js';
export { checkCapsuleModel, localModelName, remoteModelProviders, type CheckCapsuleModelOptions } from './check-capsule-model.js';
export { checkMcpToolReference, type CheckMcpToolReferenceOptions, type McpToolReference } from './check-mcp-tool-reference.js';
