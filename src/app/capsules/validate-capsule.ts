import { admitCapsuleInput, type AdmissionRules } from '../../core/admission/index.js';
import { learningConfigOverridesSchema, parseLearningConfig, type LearningConfig } from '../../core/learning/index.js';
import type { Failure } from '../../shared/errors.js';
import { ok, refuse, type Result } from '../../shared/result.js';
import type { CapsuleInput, ToolInput } from './capsule-input.js';

/** What a turn does with a user message longer than the context lets in: refuse it (413) or cut it. */
export type MessageOverflow = 'refuse' | 'truncate';

/**
 * The `learning_config` a tenant may send: the learning constants' overrides plus the turn settings
 * (`temperature` 0–2, `message_overflow`). The HTTP schema is this one, so the API publishes it.
 */
export const learningConfigInput = learningConfigOverridesSchema;

/** A capsule's `learning_config` split into turn settings and the learning-constant overrides. */
export interface SplitLearningConfig {
  temperature: number | undefined;
  tauDrivesTemperature: boolean;
  /** `learning_config.message_overflow` (default `refuse`). */
  messageOverflow: MessageOverflow;
  learning: LearningConfig;
  overrides: Record<string, unknown>;
}

/** Splits `learning_config` into turn settings and learning-constant overrides, validating both. */
export function splitLearningConfig(config: Record<string, unknown> | undefined): Result<SplitLearningConfig, Failure> {
  const { temperature, tau_drives_temperature, message_overflow, ...rest } = config ?? {};
  if (temperature !== undefined && (typeof temperature !== 'number' || temperature < 0 || temperature > 2)) {
    return refuse('VALIDATION_FAILED', 'learning_config.temperature must be a number from 0 to 2');
  }
  if (tau_drives_temperature !== undefined && typeof tau_drives_temperature !== 'boolean') {
    return refuse('VALIDATION_FAILED', 'learning_config.tau_drives_temperature must be true or false');
  }
  if (message_overflow !== undefined && message_overflow !== 'refuse' && message_overflow !== 'truncate') {
    return refuse('VALIDATION_FAILED', 'learning_config.message_overflow must be "refuse" or "truncate"');
  }
  const learning = parseLearningConfig(Object.keys(rest).length === 0 ? undefined : rest);
  if (!learning.ok) return learning;
  return ok({
    temperature: temperature as number | undefined,
    tauDrivesTemperature: tau_drives_temperature === true,
    messageOverflow: (message_overflow as MessageOverflow | undefined) ?? 'refuse',
    learning: learning.value,
    overrides: rest,
  });
}

/** Each tool named once; built-in names known (MCP tools name a registered server: {@link admitCapsuleInput}, SPEC §13.1). */
export function validateTools(tools: ToolInput[], builtinToolNames: readonly string[]): Result<void, Failure> {
  const seen = new Set<string>();
  for (const tool of tools) {
    if (seen.has(tool.name)) return refuse('INVALID_COMBINATION', `tools: "${tool.name}" is listed twice`);
    seen.add(tool.name);
    const kind = tool.kind ?? 'builtin';
    if (kind === 'builtin' && !builtinToolNames.includes(tool.name)) {
      return refuse('VALIDATION_FAILED', `tools: "${tool.name}" is not a built-in tool (built-in: ${builtinToolNames.join(', ')}); MCP tools need kind "mcp"`);
    }
  }
  return ok(undefined);
}

/** The minimum number of iterations never exceeds the maximum. */
export function validateLimits(min: number, max: number): Result<void, Failure> {
  if (min > max) return refuse('INVALID_COMBINATION', `rlm_min_iterations (${min}) must not exceed rlm_max_iterations (${max})`);
  return ok(undefined);
}

/** Without rules from the composition root: no MCP servers, no scripted models (the strictest). */
const strictAdmission: AdmissionRules = { mcpServers: [], allowScriptedModels: false };

/**
 * The tools, model and allowed models of a capsule body (create or patch) against what the operator
 * lets capsules name: tools as {@link validateTools}, then {@link admitCapsuleInput}.
 */
export function validateCapsuleInput(
  input: Partial<CapsuleInput>,
  { builtinTools, admission = strictAdmission }: { builtinTools: readonly string[]; admission?: AdmissionRules | undefined },
): Result<void, Failure> {
  if (input.tools !== undefined) {
    const tools = validateTools(input.tools, builtinTools);
    if (!tools.ok) return tools;
  }
  return admitCapsuleInput(input, admission);
}
