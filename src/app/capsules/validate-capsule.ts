import { parseLearningConfig, type LearningConfig } from '../../core/learning/index.js';
import type { Failure } from '../../shared/errors.js';
import { ok, refuse, type Result } from '../../shared/result.js';
import type { ToolInput } from './capsule-input.js';

/** A capsule's `learning_config` split into turn settings and the learning-constant overrides. */
export interface SplitLearningConfig {
  temperature: number | undefined;
  tauDrivesTemperature: boolean;
  learning: LearningConfig;
  overrides: Record<string, unknown>;
}

/** Splits `learning_config` into turn settings and learning-constant overrides, validating both. */
export function splitLearningConfig(config: Record<string, unknown> | undefined): Result<SplitLearningConfig, Failure> {
  const { temperature, tau_drives_temperature, ...rest } = config ?? {};
  if (temperature !== undefined && (typeof temperature !== 'number' || temperature < 0 || temperature > 2)) {
    return refuse('VALIDATION_FAILED', 'learning_config.temperature must be a number from 0 to 2');
  }
  if (tau_drives_temperature !== undefined && typeof tau_drives_temperature !== 'boolean') {
    return refuse('VALIDATION_FAILED', 'learning_config.tau_drives_temperature must be true or false');
  }
  const learning = parseLearningConfig(Object.keys(rest).length === 0 ? undefined : rest);
  if (!learning.ok) return learning;
  return ok({ temperature: temperature as number | undefined, tauDrivesTemperature: tau_drives_temperature === true, learning: learning.value, overrides: rest });
}

/** Each tool named once; built-in names known; MCP tools name a server transport. */
export function validateTools(tools: ToolInput[], builtinToolNames: readonly string[]): Result<void, Failure> {
  const seen = new Set<string>();
  for (const tool of tools) {
    if (seen.has(tool.name)) return refuse('VALIDATION_FAILED', `tools: "${tool.name}" is listed twice`);
    seen.add(tool.name);
    const kind = tool.kind ?? 'builtin';
    if (kind === 'builtin' && !builtinToolNames.includes(tool.name)) {
      return refuse('VALIDATION_FAILED', `tools: "${tool.name}" is not a built-in tool (built-in: ${builtinToolNames.join(', ')}); MCP tools need kind "mcp"`);
    }
    if (kind === 'mcp') {
      const server = (tool.config as { server?: { transport?: string } } | undefined)?.server;
      if (!server || (server.transport !== 'stdio' && server.transport !== 'http')) {
        return refuse('VALIDATION_FAILED', `tools: MCP tool "${tool.name}" needs config.server with transport "stdio" or "http"`);
      }
    }
  }
  return ok(undefined);
}

/** The minimum number of iterations never exceeds the maximum. */
export function validateLimits(min: number, max: number): Result<void, Failure> {
  if (min > max) return refuse('VALIDATION_FAILED', `rlm_min_iterations (${min}) must not exceed rlm_max_iterations (${max})`);
  return ok(undefined);
}
