import { and, desc, eq, sql } from 'drizzle-orm';
import type { Evidence, LearnedState, LearningSource, Neuromodulators, Weights } from '../../../ports/learning.js';
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
  /** The capsule's settings version (a patch may change its `learning_config`). */
  version: number;
  /** The capsule's raw `learning_config` jsonb. */
  learningConfig: unknown;
}

/** What this process last committed (or read) of a capsule's learning: the state its next step starts from. */
export interface CachedCapsuleState {
  capsuleId: string;
  tenantId: string;
  /** The capsule's settings version when the state was read (a patch may change `learning_config`). */
  version: number;
  learningVersion: number;
  learningConfig: unknown;
  state: LearnedState;
}

/** One row appended to `learning_updates`. */
export interface NewLearningUpdate {
  kind: 'learn' | 'rollback' | 'reset';
  /** What a `learn` row learned from (null for rollback and reset). */
  source?: LearningSource | null;
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
 * Locks the capsule row (`SELECT … FOR NO KEY UPDATE`) and reads its learned state. Call inside a
 * transaction, with its `tx`: concurrent learners of one capsule queue here, so each reads the state
 * the previous one committed. Undefined for an unknown capsule or another tenant's. The lock is the
 * one the capsule's `UPDATE` takes anyway: it does not hold up the foreign-key checks (`FOR KEY
 * SHARE`) of other writes that name the capsule — a turn's start holding its conversation row while
 * it waited for this step, which updates that conversation when it closes the turn, was a deadlock.
 */
export async function lockCapsuleState(tx: LedgerTx, scope: { tenantId: string; capsuleId: string }): Promise<LockedCapsuleState | undefined> {
  const row = await selectCapsuleState(tx, scope, { forUpdate: true });
  if (!row) return undefined;
  return {
    capsuleId: scope.capsuleId,
    tenantId: scope.tenantId,
    state: stateOf(row),
    learningVersion: row.learningVersion,
    version: row.version,
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
      learnerEvidence: tables.capsules.learnerEvidence,
      learningVersion: tables.capsules.learningVersion,
      version: tables.capsules.version,
      learningConfig: tables.capsules.learningConfig,
    })
    .from(tables.capsules)
    .where(and(eq(tables.capsules.id, capsuleId), eq(tables.capsules.tenantId, tenantId)));
  const rows = forUpdate ? await query.for('no key update') : await query;
  return rows[0];
}

/** A learned state from its stored columns (an empty evidence object means none gathered). */
export function stateOf(row: { learnedWeights: unknown; neuromodulatorState: unknown; rewardBaseline: number; learnerEvidence: unknown }): LearnedState {
  const evidence = row.learnerEvidence as Evidence | null;
  return {
    weights: row.learnedWeights as Weights,
    neuromodulators: row.neuromodulatorState as Neuromodulators,
    rewardBaseline: row.rewardBaseline,
    ...(evidence && Object.keys(evidence).length > 0 ? { evidence } : {}),
  };
}

/** A history row's before- or after-state from its columns. */
export function rowState(row: { weightsBefore: unknown; neuromodulatorsBefore: unknown; baselineBefore: number; evidenceBefore: unknown }): LearnedState {
  return stateOf({ learnedWeights: row.weightsBefore, neuromodulatorState: row.neuromodulatorsBefore, rewardBaseline: row.baselineBefore, learnerEvidence: row.evidenceBefore });
}

/**
 * Appends one history row after `locked` (seq = learning_version + 1, `*_before` = the locked state)
 * and writes its after-state to the capsule, in the caller's transaction. Returns the new seq.
 */
export async function appendLearningUpdate(tx: LedgerTx, locked: LockedCapsuleState, update: NewLearningUpdate): Promise<number> {
  const seq = locked.learningVersion + 1;
  const jsonb = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;
  const { weights, neuromodulators, rewardBaseline } = update.after;
  const evidenceAfter = update.after.evidence ?? {};
  // One statement (one round trip): append the row, then move the capsule to its after-state.
  const updated = (await tx.execute(sql`
    with appended as (
      insert into learning_updates (capsule_id, seq, tenant_id, kind, source, turn_id, iteration_number, weights_before, weights_after,
        neuromodulators_before, neuromodulators_after, baseline_before, baseline_after, evidence_before, evidence_after, reward, advantage, inputs, created_at)
      values (${locked.capsuleId}, ${seq}, ${locked.tenantId}, ${update.kind}, ${update.source ?? null}, ${update.turnId ?? null}, ${update.iterationNumber ?? null},
        ${jsonb(locked.state.weights)}, ${jsonb(weights)}, ${jsonb(locked.state.neuromodulators)}, ${jsonb(neuromodulators)},
        ${locked.state.rewardBaseline}, ${rewardBaseline}, ${jsonb(locked.state.evidence ?? {})}, ${jsonb(evidenceAfter)},
        ${update.reward ?? null}, ${update.advantage ?? null}, ${jsonb(update.inputs ?? {})},
        ${update.createdAt.toISOString()}::timestamptz)
      returning seq
    )
    update capsules set learned_weights = ${jsonb(weights)}, neuromodulator_state = ${jsonb(neuromodulators)}, reward_baseline = ${rewardBaseline},
      learner_evidence = ${jsonb(evidenceAfter)},
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
    ...stateOf(row),
    learning_version: row.learningVersion,
    learningConfig: row.learningConfig,
  };
}

export function capsuleNotFound(capsuleId: string): SomaError {
  return new SomaError('CAPSULE_NOT_FOUND', `capsule ${capsuleId} not found`);
}

/** A step already in the capsule's history for (turn, iteration, source): what a retried publish finds. */
export async function findStep(tx: LedgerTx, { capsuleId, turnId, iterationNumber, source }: { capsuleId: string; turnId: string; iterationNumber: number; source: LearningSource }) {
  const updates = tables.learningUpdates;
  const [row] = await tx
    .select()
    .from(updates)
    .where(and(eq(updates.capsuleId, capsuleId), eq(updates.turnId, turnId), eq(updates.iterationNumber, iterationNumber), eq(updates.source, source)))
    .limit(1);
  return row;
}

/** The latest feedback step of a turn on a capsule (what the turn's feedback has been credited up to). */
export async function latestFeedbackStep(tx: LedgerTx, { capsuleId, turnId }: { capsuleId: string; turnId: string }) {
  const updates = tables.learningUpdates;
  const [row] = await tx
    .select({ seq: updates.seq, inputs: updates.inputs })
    .from(updates)
    .where(and(eq(updates.capsuleId, capsuleId), eq(updates.turnId, turnId), eq(updates.source, 'feedback')))
    .orderBy(desc(updates.seq))
    .limit(1);
  return row;
}
