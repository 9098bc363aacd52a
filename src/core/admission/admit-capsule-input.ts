import type { Failure } from '../../shared/errors.js';
import { ok, type Result } from '../../shared/result.js';
import { checkCapsuleModel } from './check-capsule-model.js';
import { checkMcpToolReference } from './check-mcp-tool-reference.js';

/** What the operator allows capsules to name (built by the composition root from the configuration). */
export interface AdmissionRules {
  /** Names of the MCP servers in `SOMA_MCP_SERVERS`. */
  mcpServers: readonly string[];
  /** `SOMA_ALLOW_SCRIPTED_MODELS`. */
  allowScriptedModels: boolean;
}

/** The parts of a capsule body (create or patch) that name operator-controlled things. */
export interface AdmissibleCapsuleInput {
  model?: string | null;
  allowed_models?: readonly string[];
  tools?: readonly { name: string; kind?: 'builtin' | 'mcp'; config?: Record<string, unknown> | null }[];
}

/**
 * Refuses a capsule body (create or patch) that names a model by path, a scripted model when not
 * allowed, or an MCP server that is inline or not registered (SPEC §13.1): the first refusal
 * (`MODEL_NOT_ALLOWED` or `MCP_SERVER_UNKNOWN`), so the use case answers it before anything is written; pure.
 */
export function admitCapsuleInput(input: AdmissibleCapsuleInput, rules: AdmissionRules): Result<void, Failure> {
  const allowScripted = rules.allowScriptedModels;
  const models: [string, string][] = [
    ...(input.model !== undefined && input.model !== null ? [['model', input.model] as [string, string]] : []),
    ...(input.allowed_models ?? []).map((spec, index): [string, string] => [`allowed_models[${index}]`, spec]),
  ];
  for (const [field, spec] of models) {
    const checked = checkCapsuleModel({ spec, field, allowScripted });
    if (!checked.ok) return checked;
  }
  for (const tool of input.tools ?? []) {
    if (tool.kind !== 'mcp') continue;
    const checked = checkMcpToolReference({ capability: tool, servers: rules.mcpServers });
    if (!checked.ok) return checked;
  }
  return ok(undefined);
}
