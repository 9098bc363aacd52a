import { and, desc, eq, inArray } from 'drizzle-orm';
import type { Neuromodulators, Weights } from '../../../ports/learning.js';
import type { CapabilityRecord, CapsuleRecord, CapsuleRepository, NewCapability } from '../../../ports/store.js';
import type { ToolPolicy } from '../../../ports/tools.js';
import type { JsonSchema } from '../../../shared/json.js';
import type { Executor } from '../database.js';
import { capabilities, capsules } from '../schema.js';
import { olderThan } from './keyset.js';

type CapsuleRow = typeof capsules.$inferSelect;
type CapabilityRow = typeof capabilities.$inferSelect;

export function capsuleRepository(db: Executor): CapsuleRepository {
  const capabilitiesOf = (capsuleIds: string[]) =>
    capsuleIds.length === 0 ? Promise.resolve([]) : db.select().from(capabilities).where(inArray(capabilities.capsuleId, capsuleIds));
  const insertCapabilities = async (capsuleId: string, list: NewCapability[]) => {
    if (list.length > 0) await db.insert(capabilities).values(list.map((capability) => ({ ...capability, capsuleId })));
  };
  const withCapabilities = async (row: CapsuleRow) => toCapsule(row, await capabilitiesOf([row.id]));

  return {
    async insert(capsule, list) {
      const [row] = await db.insert(capsules).values({ ...capsule, updatedAt: capsule.createdAt }).returning();
      await insertCapabilities(capsule.id, list);
      return withCapabilities(row!);
    },
    async find(tenantId, id) {
      // Both reads at once (the capabilities of a capsule that is not the tenant's are dropped unseen).
      const [[row], list] = await Promise.all([db.select().from(capsules).where(and(eq(capsules.id, id), eq(capsules.tenantId, tenantId))), capabilitiesOf([id])]);
      return row ? toCapsule(row, list) : undefined;
    },
    async update(id, { settings, version, updatedAt, capabilities: replacement }) {
      const [row] = await db.update(capsules).set({ ...settings, version, updatedAt }).where(eq(capsules.id, id)).returning();
      if (replacement !== undefined) {
        await db.delete(capabilities).where(eq(capabilities.capsuleId, id));
        await insertCapabilities(id, replacement);
      }
      return withCapabilities(row!);
    },
    async list(tenantId, { limit, after }) {
      const rows = await db
        .select()
        .from(capsules)
        .where(and(eq(capsules.tenantId, tenantId), olderThan(capsules.createdAt, capsules.id, after)))
        .orderBy(desc(capsules.createdAt), desc(capsules.id))
        .limit(limit);
      const all = await capabilitiesOf(rows.map((row) => row.id));
      return rows.map((row) => toCapsule(row, all.filter((capability) => capability.capsuleId === row.id)));
    },
  };
}

export function toCapsule(row: CapsuleRow, rows: CapabilityRow[]): CapsuleRecord {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    version: row.version,
    systemPrompt: row.systemPrompt,
    model: row.model,
    allowedModels: row.allowedModels,
    rlmEnabled: row.rlmEnabled,
    rlmMaxIterations: row.rlmMaxIterations,
    rlmMinIterations: row.rlmMinIterations,
    rlmConvergenceThreshold: row.rlmConvergenceThreshold,
    learningConfig: row.learningConfig as Record<string, unknown>,
    toolRegistry: row.toolRegistry as string[],
    toolPolicy: row.toolPolicy as ToolPolicy,
    learnedWeights: row.learnedWeights as Weights,
    neuromodulatorState: row.neuromodulatorState as Neuromodulators,
    rewardBaseline: row.rewardBaseline,
    learningVersion: row.learningVersion,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    capabilities: rows.map(toCapability),
  };
}

function toCapability(row: CapabilityRow): CapabilityRecord {
  return {
    name: row.name,
    kind: row.kind,
    description: row.description,
    inputSchema: row.inputSchema as JsonSchema | null,
    config: row.config as Record<string, unknown>,
    enabled: row.enabled,
    timeoutMs: row.timeoutMs,
    requiresApproval: row.requiresApproval,
  };
}
