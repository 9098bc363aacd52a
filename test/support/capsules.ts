import { randomUUID } from 'node:crypto';
import { defaultLearnedState } from '../../src/core/learning/index.js';
import { tables, type Database } from '../../src/adapters/store/index.js';

/**
 * Test support for the brain's suites: a tenant with a capsule at the default learned state, inserted
 * directly (the capsule use cases belong to the app layer).
 */
export async function insertTenantWithCapsule(database: Database, { learningConfig = {} }: { learningConfig?: Record<string, unknown> } = {}) {
  const tenantId = randomUUID();
  const capsuleId = randomUUID();
  const state = defaultLearnedState();
  await database.db.insert(tables.tenants).values({ id: tenantId, name: `tenant-${tenantId.slice(0, 8)}` });
  await database.db.insert(tables.capsules).values({
    id: capsuleId,
    tenantId,
    name: 'test capsule',
    systemPrompt: 'You are a test.',
    learningConfig,
    learnedWeights: state.weights,
    neuromodulatorState: state.neuromodulators,
    rewardBaseline: state.rewardBaseline,
  });
  return { tenantId, capsuleId };
}
