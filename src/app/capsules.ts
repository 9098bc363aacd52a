import { randomUUID } from 'node:crypto';
import { and, desc, eq, inArray, lt, or } from 'drizzle-orm';
import { tables, type Database, type Executor } from '../adapters/store/index.js';
import { builtinToolNames, isBuiltinToolName } from '../adapters/tools/index.js';
import { defaultLearnedState, resolveLearningConfig } from '../core/learning/index.js';
import type { CapabilityConfig, ToolPolicy } from '../ports/tools.js';
import { SomaError } from '../shared/errors.js';
import type { Caller } from './tenancy.js';
import { writeEvent } from './events.js';

export interface ToolInput {
  name: string;
  kind?: 'builtin' | 'mcp';
  description?: string;
  input_schema?: Record<string, unknown>;
  config?: Record<string, unknown>;
  enabled?: boolean;
  timeout_ms?: number;
  requires_approval?: boolean;
}

export interface CapsuleInput {
  name: string;
  system_prompt: string;
  model?: string | null;
  allowed_models?: string[];
  rlm_enabled?: boolean;
  rlm_max_iterations?: number;
  rlm_min_iterations?: number;
  rlm_convergence_threshold?: number;
  learning_config?: Record<string, unknown>;
  tools?: ToolInput[];
  tool_policy?: ToolPolicy;
}

type CapsuleRow = typeof tables.capsules.$inferSelect;
type CapabilityRow = typeof tables.capabilities.$inferSelect;


/** Splits `learning_config` into turn settings and learning-constant overrides, validating both. */
export function splitLearningConfig(config: Record<string, unknown> | undefined) {
  const { temperature, tau_drives_temperature, ...rest } = config ?? {};
  if (temperature !== undefined && (typeof temperature !== 'number' || temperature < 0 || temperature > 2)) {
    throw new SomaError('VALIDATION_FAILED', 'learning_config.temperature must be a number from 0 to 2');
  }
  if (tau_drives_temperature !== undefined && typeof tau_drives_temperature !== 'boolean') {
    throw new SomaError('VALIDATION_FAILED', 'learning_config.tau_drives_temperature must be true or false');
  }
  const learning = resolveLearningConfig(Object.keys(rest).length === 0 ? undefined : rest);
  return { temperature: temperature as number | undefined, tauDrivesTemperature: tau_drives_temperature === true, learning, overrides: rest };
}

function validateTools(tools: ToolInput[]): void {
  const seen = new Set<string>();
  for (const tool of tools) {
    if (seen.has(tool.name)) throw new SomaError('VALIDATION_FAILED', `tools: "${tool.name}" is listed twice`);
    seen.add(tool.name);
    const kind = tool.kind ?? 'builtin';
    if (kind === 'builtin' && !isBuiltinToolName(tool.name)) {
      throw new SomaError('VALIDATION_FAILED', `tools: "${tool.name}" is not a built-in tool (built-in: ${builtinToolNames.join(', ')}); MCP tools need kind "mcp"`);
    }
    if (kind === 'mcp') {
      const server = (tool.config as { server?: { transport?: string } } | undefined)?.server;
      if (!server || (server.transport !== 'stdio' && server.transport !== 'http')) {
        throw new SomaError('VALIDATION_FAILED', `tools: MCP tool "${tool.name}" needs config.server with transport "stdio" or "http"`);
      }
    }
  }
}

function validateLimits(min: number, max: number): void {
  if (min > max) throw new SomaError('VALIDATION_FAILED', `rlm_min_iterations (${min}) must not exceed rlm_max_iterations (${max})`);
}

/** The API shape of a capsule. */
export function capsuleView(row: CapsuleRow, capabilities: CapabilityRow[]) {
  return {
    id: row.id,
    tenant_id: row.tenantId,
    name: row.name,
    version: row.version,
    system_prompt: row.systemPrompt,
    model: row.model,
    allowed_models: row.allowedModels,
    rlm_enabled: row.rlmEnabled,
    rlm_max_iterations: row.rlmMaxIterations,
    rlm_min_iterations: row.rlmMinIterations,
    rlm_convergence_threshold: row.rlmConvergenceThreshold,
    learning_config: row.learningConfig as Record<string, unknown>,
    tools: capabilities.map(capabilityView),
    tool_policy: row.toolPolicy as ToolPolicy,
    learned_weights: row.learnedWeights as Record<string, number>,
    neuromodulator_state: row.neuromodulatorState as Record<string, number>,
    learning_version: row.learningVersion,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export type CapsuleView = ReturnType<typeof capsuleView>;

function capabilityView(row: CapabilityRow) {
  return {
    name: row.name,
    kind: row.kind,
    description: row.description,
    config: row.config as Record<string, unknown>,
    enabled: row.enabled,
    timeout_ms: row.timeoutMs,
    requires_approval: row.requiresApproval,
    ...(row.inputSchema ? { input_schema: row.inputSchema as Record<string, unknown> } : {}),
  };
}

/** The capability configs the tool runner needs. */
export function capabilityConfigs(rows: CapabilityRow[]): CapabilityConfig[] {
  return rows.map((row) => ({
    name: row.name,
    description: row.description || undefined,
    input_schema: (row.inputSchema as Record<string, unknown> | null) ?? undefined,
    kind: row.kind,
    config: row.config as Record<string, unknown>,
    enabled: row.enabled,
    timeout_ms: row.timeoutMs,
    requires_approval: row.requiresApproval,
  }));
}

async function insertCapabilities(executor: Executor, capsuleId: string, tools: ToolInput[]) {
  if (tools.length === 0) return;
  await executor.insert(tables.capabilities).values(
    tools.map((tool) => ({
      id: randomUUID(),
      capsuleId,
      name: tool.name,
      description: tool.description ?? '',
      inputSchema: tool.input_schema ?? null,
      kind: tool.kind ?? 'builtin',
      config: tool.config ?? {},
      enabled: tool.enabled ?? true,
      timeoutMs: tool.timeout_ms ?? 60_000,
      requiresApproval: tool.requires_approval ?? false,
    })),
  );
}

export async function createCapsule({ database, caller, input }: { database: Database; caller: Caller; input: CapsuleInput }) {
  const { learning } = splitLearningConfig(input.learning_config);
  const tools = input.tools ?? [];
  validateTools(tools);
  validateLimits(input.rlm_min_iterations ?? 1, input.rlm_max_iterations ?? 10);
  const state = defaultLearnedState({ config: learning });
  const id = randomUUID();
  return database.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(tables.capsules)
      .values({
        id,
        tenantId: caller.tenantId,
        name: input.name,
        systemPrompt: input.system_prompt,
        model: input.model ?? null,
        allowedModels: input.allowed_models ?? [],
        rlmEnabled: input.rlm_enabled ?? true,
        rlmMaxIterations: input.rlm_max_iterations ?? 10,
        rlmMinIterations: input.rlm_min_iterations ?? 1,
        rlmConvergenceThreshold: input.rlm_convergence_threshold ?? 0.9,
        learningConfig: input.learning_config ?? {},
        toolRegistry: tools.map((t) => t.name),
        toolPolicy: input.tool_policy ?? {},
        learnedWeights: state.weights,
        neuromodulatorState: state.neuromodulators,
        rewardBaseline: state.rewardBaseline,
      })
      .returning();
    await insertCapabilities(tx, id, tools);
    const capabilities = await tx.select().from(tables.capabilities).where(eq(tables.capabilities.capsuleId, id));
    const view = capsuleView(row!, capabilities);
    await writeEvent(tx, { eventType: 'capsule.created', tenantId: caller.tenantId, capsuleId: id, subject: `${id}:1`, payload: { capsule: view } });
    return view;
  });
}

/** Loads a capsule of the caller's tenant; another tenant's capsule is CAPSULE_NOT_FOUND. */
export async function loadCapsule(executor: Executor, caller: Pick<Caller, 'tenantId'>, id: string) {
  const [row] = await executor
    .select()
    .from(tables.capsules)
    .where(and(eq(tables.capsules.id, id), eq(tables.capsules.tenantId, caller.tenantId)));
  if (!row) throw new SomaError('CAPSULE_NOT_FOUND', `capsule ${id} not found`);
  const capabilities = await executor.select().from(tables.capabilities).where(eq(tables.capabilities.capsuleId, id));
  return { row, capabilities };
}

export async function getCapsule({ database, caller, id }: { database: Database; caller: Caller; id: string }) {
  const { row, capabilities } = await loadCapsule(database.db, caller, id);
  return capsuleView(row, capabilities);
}

export async function patchCapsule({ database, caller, id, input }: { database: Database; caller: Caller; id: string; input: Partial<CapsuleInput> }) {
  if (input.learning_config !== undefined) splitLearningConfig(input.learning_config);
  if (input.tools !== undefined) validateTools(input.tools);
  return database.db.transaction(async (tx) => {
    const { row } = await loadCapsule(tx, caller, id);
    validateLimits(input.rlm_min_iterations ?? row.rlmMinIterations, input.rlm_max_iterations ?? row.rlmMaxIterations);
    const version = row.version + 1;
    const [updated] = await tx
      .update(tables.capsules)
      .set({
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.system_prompt !== undefined ? { systemPrompt: input.system_prompt } : {}),
        ...(input.model !== undefined ? { model: input.model } : {}),
        ...(input.allowed_models !== undefined ? { allowedModels: input.allowed_models } : {}),
        ...(input.rlm_enabled !== undefined ? { rlmEnabled: input.rlm_enabled } : {}),
        ...(input.rlm_max_iterations !== undefined ? { rlmMaxIterations: input.rlm_max_iterations } : {}),
        ...(input.rlm_min_iterations !== undefined ? { rlmMinIterations: input.rlm_min_iterations } : {}),
        ...(input.rlm_convergence_threshold !== undefined ? { rlmConvergenceThreshold: input.rlm_convergence_threshold } : {}),
        ...(input.learning_config !== undefined ? { learningConfig: input.learning_config } : {}),
        ...(input.tool_policy !== undefined ? { toolPolicy: input.tool_policy } : {}),
        ...(input.tools !== undefined ? { toolRegistry: input.tools.map((t) => t.name) } : {}),
        version,
        updatedAt: new Date(),
      })
      .where(eq(tables.capsules.id, id))
      .returning();
    if (input.tools !== undefined) {
      await tx.delete(tables.capabilities).where(eq(tables.capabilities.capsuleId, id));
      await insertCapabilities(tx, id, input.tools);
    }
    const capabilities = await tx.select().from(tables.capabilities).where(eq(tables.capabilities.capsuleId, id));
    const view = capsuleView(updated!, capabilities);
    await writeEvent(tx, {
      eventType: 'capsule.changed',
      tenantId: caller.tenantId,
      capsuleId: id,
      subject: `${id}:${version}`,
      payload: { changed: Object.keys(input), capsule: view },
    });
    return view;
  });
}

export async function listCapsules({ database, caller, limit = 50, cursor }: { database: Database; caller: Caller; limit?: number; cursor?: string }) {
  const after = cursor ? decodeCursor(cursor) : undefined;
  const rows = await database.db
    .select()
    .from(tables.capsules)
    .where(
      and(
        eq(tables.capsules.tenantId, caller.tenantId),
        after ? or(lt(tables.capsules.createdAt, after.at), and(eq(tables.capsules.createdAt, after.at), lt(tables.capsules.id, after.id))) : undefined,
      ),
    )
    .orderBy(desc(tables.capsules.createdAt), desc(tables.capsules.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const capabilities = page.length === 0 ? [] : await database.db.select().from(tables.capabilities).where(inArray(tables.capabilities.capsuleId, page.map((r) => r.id)));
  const last = page[page.length - 1];
  return {
    capsules: page.map((row) => capsuleView(row, capabilities.filter((c) => c.capsuleId === row.id))),
    next_cursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}

/** Opaque keyset cursor over (created_at, id). */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

export function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(at);
    if (typeof id !== 'string' || Number.isNaN(date.getTime())) throw new Error('bad cursor');
    return { at: date, id };
  } catch {
    throw new SomaError('VALIDATION_FAILED', 'cursor is not valid');
  }
}
