import { and, eq, sql } from 'drizzle-orm';
import type { LearnedState, Neuromodulators, Weights } from '../../../ports/learning.js';
import { SomaError } from '../../../shared/errors.js';
import { tables, type Db, type Executor } from '../../store/index.js';

/** The transaction handle `db.transaction` passes to its callback. */
export type LedgerTx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** A capsule's learned state as locked inside a transaction. */
export interface LockedCapsuleState {
  capsuleId: string;
  tenantId: string;
  state: LearnedState;
  /** `seq` of the capsule's last history row (0 when there is none). */
  learningVersion: number;
  /** The capsule's raw `learning_config` jsonb. */
  learningConfig: unknown;
}

/** One row appended to `learning_updates`. */
export interface NewLearningUpdate {
  kind: 'learn' | 'rollback' | 'reset';
  turnId?: string | null;
  iterationNumber?: number | null;
  after: LearnedState;
  reward?: number | null;
  advantage?: number | null;
  inputs?: Record<string, unknown>;
  createdAt: Date;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a syntactically valid UUID (ids that are not cannot name a row, and PostgreSQL would reject them). */
export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

/**
 * Locks the capsule row (`SELECT … FOR UPDATE`) and reads its learned state. Call inside a
 * transaction, with its `tx`: concurrent learners of one capsule queue here, so each reads the state
 * the previous one committed. Undefined for an unknown capsule or another tenant's.
 */
export async function lockCapsuleState(tx: LedgerTx, scope: { tenantId: string; capsuleId: string }): Promise<LockedCapsuleState | undefined> {
  const row = await selectCapsuleState(tx, scope, { forUpdate: true });
  if (!row) return undefined;
  return {
    capsuleId: scope.capsuleId,
    tenantId: scope.tenantId,
    state: { weights: row.learnedWeights as Weights, neuromodulators: row.neuromodulatorState as Neuromodulators, rewardBaseline: row.rewardBaseline },
    learningVersion: row.learningVersion,
    learningConfig: row.learningConfig,
  };
}

/** The learned-state columns of a tenant's capsule, optionally locked; undefined for another tenant's. */
async function selectCapsuleState(executor: Executor, { tenantId, capsuleId }: { tenantId: string; capsuleId: string }, { forUpdate }: { forUpdate: boolean }) {
  if (!isUuid(capsuleId) || !isUuid(tenantId)) return undefined;
  const query = executor
    .select({
      learnedWeights: tables.capsules.learnedWeights,
      neuromodulatorState: tables.capsules.neuromodulatorState,
      rewardBaseline: tables.capsules.rewardBaseline,
      learningVersion: tables.capsules.learningVersion,
      learningConfig: tables.capsules.learningConfig,
    })
    .from(tables.capsules)
    .where(and(eq(tables.capsules.id, capsuleId), eq(tables.capsules.tenantId, tenantId)));
  const rows = forUpdate ? await query.for('update') : await query;
  return rows[0];
}

/**
 * Appends one history row after `locked` (seq = learning_version + 1, `*_before` = the locked state)
 * and writes its after-state to the capsule, in the caller's transaction. Returns the new seq.
 */
export async function appendLearningUpdate(tx: LedgerTx, locked: LockedCapsuleState, update: NewLearningUpdate): Promise<number> {
  const seq = locked.learningVersion + 1;
  const jsonb = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;
  const { weights, neuromodulators, rewardBaseline } = update.after;
  // One statement (one round trip): append the row, then move the capsule to its after-state.
  const updated = (await tx.execute(sql`
    with appended as (
      insert into learning_updates (capsule_id, seq, tenant_id, kind, turn_id, iteration_number, weights_before, weights_after,
        neuromodulators_before, neuromodulators_after, baseline_before, baseline_after, reward, advantage, inputs, created_at)
      values (${locked.capsuleId}, ${seq}, ${locked.tenantId}, ${update.kind}, ${update.turnId ?? null}, ${update.iterationNumber ?? null},
        ${jsonb(locked.state.weights)}, ${jsonb(weights)}, ${jsonb(locked.state.neuromodulators)}, ${jsonb(neuromodulators)},
        ${locked.state.rewardBaseline}, ${rewardBaseline}, ${update.reward ?? null}, ${update.advantage ?? null}, ${jsonb(update.inputs ?? {})},
        ${update.createdAt.toISOString()}::timestamptz)
      returning seq
    )
    update capsules set learned_weights = ${jsonb(weights)}, neuromodulator_state = ${jsonb(neuromodulators)}, reward_baseline = ${rewardBaseline},
      learning_version = (select seq from appended), updated_at = ${update.createdAt.toISOString()}::timestamptz
    where id = ${locked.capsuleId} and learning_version = ${locked.learningVersion}
    returning id`)) as unknown as { rows: unknown[] };
  // The row lock makes a mismatch impossible; the version check makes a caller without the lock fail loudly instead of forking the chain.
  if (updated.rows.length !== 1) throw new SomaError('CONFLICT', `capsule ${locked.capsuleId} changed while learning (version ${locked.learningVersion})`, { retryable: true });
  return seq;
}

/** Reads a capsule's learned state without locking (tenant-scoped); undefined for another tenant's. */
export async function readCapsuleState(
  executor: Executor,
  scope: { tenantId: string; capsuleId: string },
): Promise<(LearnedState & { learning_version: number; learningConfig: unknown }) | undefined> {
  const row = await selectCapsuleState(executor, scope, { forUpdate: false });
  if (!row) return undefined;
  return {
    weights: row.learnedWeights as Weights,
    neuromodulators: row.neuromodulatorState as Neuromodulators,
    rewardBaseline: row.rewardBaseline,
    learning_version: row.learningVersion,
    learningConfig: row.learningConfig,
  };
}

export function capsuleNotFound(capsuleId: string): SomaError {
  return new SomaError('CAPSULE_NOT_FOUND', `capsule ${capsuleId} not found`);
}
