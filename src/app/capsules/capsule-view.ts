import type { CapabilityRecord, CapsuleRecord, NewCapability } from '../../ports/store.js';
import type { IdSource } from '../../ports/id-source.js';
import type { CapabilityConfig } from '../../ports/tools.js';
import { maskCapabilityConfig } from '../../shared/mask-secrets.js';
import type { ToolInput } from './capsule-input.js';

/** The API shape of a capsule (also the payload of `capsule.*` events): capability secrets masked. */
export function capsuleView(capsule: CapsuleRecord) {
  return {
    id: capsule.id,
    tenant_id: capsule.tenantId,
    name: capsule.name,
    version: capsule.version,
    system_prompt: capsule.systemPrompt,
    model: capsule.model,
    allowed_models: capsule.allowedModels,
    rlm_enabled: capsule.rlmEnabled,
    rlm_max_iterations: capsule.rlmMaxIterations,
    rlm_min_iterations: capsule.rlmMinIterations,
    rlm_convergence_threshold: capsule.rlmConvergenceThreshold,
    learning_config: capsule.learningConfig,
    tools: capsule.capabilities.map(capabilityView),
    tool_policy: capsule.toolPolicy,
    learned_weights: capsule.learnedWeights as unknown as Record<string, number>,
    neuromodulator_state: capsule.neuromodulatorState as unknown as Record<string, number>,
    learning_version: capsule.learningVersion,
    created_at: capsule.createdAt.toISOString(),
    updated_at: capsule.updatedAt.toISOString(),
  };
}

export type CapsuleView = ReturnType<typeof capsuleView>;

function capabilityView(capability: CapabilityRecord) {
  return {
    name: capability.name,
    kind: capability.kind,
    description: capability.description,
    // Write-only secrets (SPEC §13.1): headers, env and secret-named keys read as "***".
    config: maskCapabilityConfig(capability.config),
    enabled: capability.enabled,
    timeout_ms: capability.timeoutMs,
    requires_approval: capability.requiresApproval,
    ...(capability.inputSchema ? { input_schema: capability.inputSchema } : {}),
  };
}

/** The capability configs the tool runner needs. */
export function capabilityConfigs(capabilities: CapabilityRecord[]): CapabilityConfig[] {
  return capabilities.map((capability) => ({
    name: capability.name,
    description: capability.description || undefined,
    input_schema: capability.inputSchema ?? undefined,
    kind: capability.kind,
    config: capability.config,
    enabled: capability.enabled,
    timeout_ms: capability.timeoutMs,
    requires_approval: capability.requiresApproval,
  }));
}

/** Tools as a tenant sent them, as new capability rows (defaults filled in). */
export function newCapabilities(ids: IdSource, tools: ToolInput[]): NewCapability[] {
  return tools.map((tool) => ({
    id: ids.uuid(),
    name: tool.name,
    description: tool.description ?? '',
    inputSchema: tool.input_schema ?? null,
    kind: tool.kind ?? 'builtin',
    config: tool.config ?? {},
    enabled: tool.enabled ?? true,
    timeoutMs: tool.timeout_ms ?? 60_000,
    requiresApproval: tool.requires_approval ?? false,
  }));
}
