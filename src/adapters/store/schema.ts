import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const createdAt = () => ts('created_at').notNull().defaultNow();

export const tenants = pgTable('tenants', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: createdAt(),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    userId: text('user_id').notNull(),
    hash: text('hash').notNull(),
    /** The tenant's admin key (the one created with the tenant, or one created with `admin: true`): reads every event of the tenant. */
    admin: boolean('admin').notNull().default(false),
    createdAt: createdAt(),
    revokedAt: ts('revoked_at'),
  },
  (t) => [uniqueIndex('api_keys_hash_idx').on(t.hash)],
);

export const capsules = pgTable(
  'capsules',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    name: text('name').notNull(),
    version: integer('version').notNull().default(1),
    systemPrompt: text('system_prompt').notNull(),
    model: text('model'),
    allowedModels: text('allowed_models').array().notNull().default(sql`'{}'::text[]`),
    rlmEnabled: boolean('rlm_enabled').notNull().default(true),
    rlmMaxIterations: integer('rlm_max_iterations').notNull().default(10),
    rlmMinIterations: integer('rlm_min_iterations').notNull().default(1),
    // DEFAULT_CONVERGENCE_THRESHOLD of core/turn (chosen by soma eval, README).
    rlmConvergenceThreshold: doublePrecision('rlm_convergence_threshold').notNull().default(0.3),
    learningConfig: jsonb('learning_config').notNull().default({}),
    toolRegistry: jsonb('tool_registry').notNull().default([]),
    toolPolicy: jsonb('tool_policy').notNull().default({}),
    learnedWeights: jsonb('learned_weights').notNull(),
    neuromodulatorState: jsonb('neuromodulator_state').notNull(),
    rewardBaseline: doublePrecision('reward_baseline').notNull().default(0),
    /** The `perturbation` rule's evidence per weight (`Evidence`); `{}` = none gathered. */
    learnerEvidence: jsonb('learner_evidence').notNull().default({}),
    learningVersion: bigint('learning_version', { mode: 'number' }).notNull().default(0),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('capsules_tenant_idx').on(t.tenantId, t.createdAt)],
);

export const capabilities = pgTable(
  'capabilities',
  {
    id: uuid('id').primaryKey(),
    capsuleId: uuid('capsule_id').notNull().references(() => capsules.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    inputSchema: jsonb('input_schema'),
    kind: text('kind', { enum: ['builtin', 'mcp'] }).notNull(),
    config: jsonb('config').notNull().default({}),
    enabled: boolean('enabled').notNull().default(true),
    timeoutMs: integer('timeout_ms').notNull().default(60_000),
    requiresApproval: boolean('requires_approval').notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('capabilities_capsule_name_idx').on(t.capsuleId, t.name)],
);

export const conversations = pgTable(
  'conversations',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    capsuleId: uuid('capsule_id').notNull().references(() => capsules.id),
    userId: text('user_id').notNull(),
    title: text('title'),
    status: text('status', { enum: ['active', 'archived'] }).notNull().default('active'),
    messageCount: integer('message_count').notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [index('conversations_tenant_idx').on(t.tenantId, t.createdAt)],
);

export const conversationParticipants = pgTable(
  'conversation_participants',
  {
    conversationId: uuid('conversation_id').notNull().references(() => conversations.id, { onDelete: 'cascade' }),
    userId: text('user_id').notNull(),
    role: text('role', { enum: ['owner', 'participant', 'observer'] }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.userId] })],
);

export const turns = pgTable(
  'turns',
  {
    id: uuid('id').primaryKey(),
    conversationId: uuid('conversation_id').notNull().references(() => conversations.id),
    capsuleId: uuid('capsule_id').notNull().references(() => capsules.id),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    userId: text('user_id').notNull(),
    status: text('status', { enum: ['running', 'awaiting_approval', 'completed', 'failed', 'interrupted'] }).notNull(),
    inputHash: text('input_hash').notNull(),
    seed: bigint('seed', { mode: 'number' }).notNull(),
    exitReason: text('exit_reason'),
    iterations: integer('iterations').notNull().default(0),
    convergenceScore: doublePrecision('convergence_score'),
    weightsStart: jsonb('weights_start').notNull(),
    neuromodulatorsStart: jsonb('neuromodulators_start').notNull(),
    /** Everything else replay needs: model id, threshold, min/max, budgets, learning config, tools. */
    settings: jsonb('settings').notNull().default({}),
    error: jsonb('error'),
    startedAt: ts('started_at').notNull().defaultNow(),
    completedAt: ts('completed_at'),
    /** When the current run of the turn began (its start, or its last resumption): what the crash sweep ages. */
    runStartedAt: ts('run_started_at').notNull().defaultNow(),
    /** How many times the turn was resumed after it had been closed (`POST /v1/turns/:id/resume`). */
    resumes: integer('resumes').notNull().default(0),
    /** Batches of the turn's SSE events written with the turn row: its start and every close (`{first, last, events}`). */
    streamEvents: jsonb('stream_events').notNull().default([]),
  },
  (t) => [
    index('turns_conversation_idx').on(t.conversationId, t.startedAt, t.id),
    index('turns_status_idx').on(t.status),
  ],
);

export const messages = pgTable(
  'messages',
  {
    id: uuid('id').primaryKey(),
    // No foreign keys on the rows a turn appends (messages, iterations, learning steps, memories):
    // each is written by the statement that knows its parents exist (the turn's start committed
    // first), nothing deletes a parent, and each key checked cost the turn's statement a locked,
    // WAL-logged parent row (25 such locks a turn, 18 of them these; migration 0008).
    conversationId: uuid('conversation_id').notNull(),
    turnId: uuid('turn_id'),
    role: text('role', { enum: ['user', 'assistant', 'system'] }).notNull(),
    content: text('content').notNull(),
    tokenCount: integer('token_count'),
    model: text('model'),
    latencyMs: integer('latency_ms'),
    metadata: jsonb('metadata').notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index('messages_conversation_idx').on(t.conversationId, t.createdAt)],
);

export const rlmIterations = pgTable(
  'rlm_iterations',
  {
    id: uuid('id').primaryKey(),
    // Appended by the turn's statements: no foreign keys (see messages).
    turnId: uuid('turn_id').notNull(),
    conversationId: uuid('conversation_id').notNull(),
    iterationNumber: integer('iteration_number').notNull(),
    content: text('content').notNull(),
    llmOutput: jsonb('llm_output').notNull(),
    weightsBefore: jsonb('weights_before').notNull(),
    weightsAfter: jsonb('weights_after').notNull(),
    weightDeltas: jsonb('weight_deltas').notNull(),
    neuromodulatorsBefore: jsonb('neuromodulators_before').notNull(),
    neuromodulatorsAfter: jsonb('neuromodulators_after').notNull(),
    model: text('model').notNull(),
    confidence: doublePrecision('confidence'),
    latencyMs: integer('latency_ms').notNull(),
    toolCalls: jsonb('tool_calls').notNull().default([]),
    toolResults: jsonb('tool_results').notNull().default([]),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    convergenceScore: doublePrecision('convergence_score').notNull(),
    exitReason: text('exit_reason').notNull(),
    metadata: jsonb('metadata').notNull().default({}),
    startedAt: ts('started_at').notNull(),
    completedAt: ts('completed_at').notNull(),
    createdAt: createdAt(),
    /** The SSE events of the turn emitted since the previous write, stored with this iteration (`{first, last, events}`). */
    streamEvents: jsonb('stream_events'),
  },
  (t) => [uniqueIndex('rlm_iterations_turn_iteration_idx').on(t.turnId, t.iterationNumber)],
);

/** Tool calls waiting for (or decided by) a person (SPEC §13.4). */
export const approvals = pgTable(
  'approvals',
  {
    id: uuid('id').primaryKey(),
    turnId: uuid('turn_id').notNull().references(() => turns.id),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    conversationId: uuid('conversation_id').notNull().references(() => conversations.id),
    capsuleId: uuid('capsule_id').notNull().references(() => capsules.id),
    iterationNumber: integer('iteration_number').notNull(),
    callId: text('call_id').notNull(),
    tool: text('tool').notNull(),
    args: jsonb('args').notNull(),
    status: text('status', { enum: ['pending', 'approved', 'denied', 'expired'] }).notNull().default('pending'),
    reason: text('reason'),
    decidedBy: text('decided_by'),
    requestedAt: ts('requested_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    decidedAt: ts('decided_at'),
    /** The call's outcome once the decision was applied (the tool ran, or the denial the model saw): what replay plays back. */
    outcome: jsonb('outcome'),
  },
  (t) => [
    uniqueIndex('approvals_turn_call_idx').on(t.turnId, t.callId),
    index('approvals_tenant_status_idx').on(t.tenantId, t.status, t.requestedAt),
    index('approvals_pending_expiry_idx').on(t.expiresAt).where(sql`status = 'pending'`),
  ],
);

export const learningUpdates = pgTable(
  'learning_updates',
  {
    // Appended with the capsule's own update in one statement: no foreign keys (see messages).
    capsuleId: uuid('capsule_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    tenantId: uuid('tenant_id').notNull(),
    /** `learn` (one step), `rollback` or `reset`. */
    kind: text('kind', { enum: ['learn', 'rollback', 'reset'] }).notNull().default('learn'),
    /** What a `learn` row learned from: an `iteration` of the turn or a user's `feedback` on it; null for rollback and reset. */
    source: text('source', { enum: ['iteration', 'feedback'] }),
    turnId: uuid('turn_id'),
    iterationNumber: integer('iteration_number'),
    weightsBefore: jsonb('weights_before').notNull(),
    weightsAfter: jsonb('weights_after').notNull(),
    neuromodulatorsBefore: jsonb('neuromodulators_before').notNull(),
    neuromodulatorsAfter: jsonb('neuromodulators_after').notNull(),
    baselineBefore: doublePrecision('baseline_before').notNull(),
    baselineAfter: doublePrecision('baseline_after').notNull(),
    evidenceBefore: jsonb('evidence_before').notNull().default({}),
    evidenceAfter: jsonb('evidence_after').notNull().default({}),
    reward: doublePrecision('reward'),
    advantage: doublePrecision('advantage'),
    /** The step's inputs (metrics and config), recorded so it can be recomputed. */
    inputs: jsonb('inputs').notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.capsuleId, t.seq] }),
    index('learning_updates_turn_idx').on(t.turnId),
    // One step per (capsule, turn, iteration, source): a retried publish_turn_metrics finds its stored result.
    uniqueIndex('learning_updates_step_idx').on(t.capsuleId, t.turnId, t.iterationNumber, t.source),
  ],
);

export const memories = pgTable(
  'memories',
  {
    id: uuid('id').primaryKey(),
    // Remembered by a turn's close (or the brain's API for a capsule it just read): no foreign keys (see messages).
    tenantId: uuid('tenant_id').notNull(),
    capsuleId: uuid('capsule_id').notNull(),
    /** The user whose memory this is; '' = shared by the capsule's users (`learning_config.memory_scope: "capsule"`). */
    userId: text('user_id').notNull().default(''),
    key: text('key').notNull(),
    content: text('content').notNull(),
    importance: doublePrecision('importance').notNull().default(0.5),
    novelty: doublePrecision('novelty').notNull().default(0.5),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    search: tsvector('search').generatedAlwaysAs(sql`to_tsvector('english', coalesce(key, '') || ' ' || content)`),
    createdAt: createdAt(),
    lastRecalledAt: ts('last_recalled_at'),
    /** The scope's `memory_scopes.version` its last write took: a recall reads what changed since the version it holds. */
    version: bigint('version', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    index('memories_scope_idx').on(t.tenantId, t.capsuleId, t.userId, t.createdAt),
    index('memories_scope_version_idx').on(t.tenantId, t.capsuleId, t.userId, t.version),
    // A small pending list (128 kB): a memory's words go in as one append instead of one index insert per
    // word (remember: 47 → 3 KB of WAL, 0.95 → 0.5 ms), and the insert that fills the list merges it in
    // bulk, so it stays bounded without autovacuum (PGlite has none) and a search scans at most 128 kB of it.
    index('memories_search_idx').using('gin', t.search).with({ fastupdate: true, gin_pending_list_limit: 128 }),
    uniqueIndex('memories_scope_key_idx').on(t.tenantId, t.capsuleId, t.userId, t.key),
  ],
);

/**
 * A memory scope's write counter: every statement that writes memories of the scope raises `version`
 * (under the row's lock, so versions follow commit order) and stamps the rows it writes with it; one
 * that deletes raises `epoch` too. A process keeps a scope's recall window and reads only what changed.
 */
export const memoryScopes = pgTable(
  'memory_scopes',
  {
    tenantId: uuid('tenant_id').notNull(),
    capsuleId: uuid('capsule_id').notNull(),
    userId: text('user_id').notNull(),
    version: bigint('version', { mode: 'number' }).notNull().default(0),
    epoch: bigint('epoch', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.capsuleId, t.userId] })],
);

export const turnFeedback = pgTable(
  'turn_feedback',
  {
    turnId: uuid('turn_id').notNull().references(() => turns.id),
    userId: text('user_id').notNull(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    capsuleId: uuid('capsule_id').notNull().references(() => capsules.id, { onDelete: 'cascade' }),
    conversationId: uuid('conversation_id').notNull().references(() => conversations.id),
    /** The user's latest score in [−1, 1]. */
    score: doublePrecision('score').notNull(),
    comment: text('comment'),
    /** The turn's feedback revision this row last took (1, 2, … across the turn's users): the learning step's `iteration_number`. */
    revision: integer('revision').notNull(),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.turnId, t.userId] }), uniqueIndex('turn_feedback_revision_idx').on(t.turnId, t.revision)],
);

export const outboxMessages = pgTable(
  'outbox_messages',
  {
    id: uuid('id').primaryKey(),
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    /**
     * Position in the event log `/v1/events` serves, given after commit in commit order (null until
     * then), so a reader's cursor never skips a transaction that committed late.
     */
    position: bigint('position', { mode: 'number' }),
    tenantId: uuid('tenant_id').notNull(),
    /** The turn the event belongs to: the relay publishes one turn's events in order. */
    turnId: uuid('turn_id'),
    idempotencyKey: text('idempotency_key').notNull(),
    topic: text('topic').notNull(),
    partitionKey: text('partition_key').notNull(),
    eventType: text('event_type').notNull(),
    payload: jsonb('payload').notNull(),
    headers: jsonb('headers').notNull().default({}),
    createdAt: createdAt(),
    publishedAt: ts('published_at'),
    attempts: integer('attempts').notNull().default(0),
    nextRetryAt: ts('next_retry_at').notNull().defaultNow(),
    lastError: text('last_error'),
    status: text('status', { enum: ['pending', 'published', 'dead'] }).notNull().default('pending'),
  },
  (t) => [
    uniqueIndex('outbox_idempotency_idx').on(t.idempotencyKey),
    index('outbox_pending_idx').on(t.status, t.nextRetryAt, t.seq),
    // Positions are given after commit: an event gets these two entries then, not at its insert.
    uniqueIndex('outbox_position_idx').on(t.position).where(sql`position IS NOT NULL`),
    index('outbox_tenant_position_idx').on(t.tenantId, t.position).where(sql`position IS NOT NULL`),
    index('outbox_unnumbered_idx').on(t.seq).where(sql`position IS NULL`),
    index('outbox_turn_pending_idx').on(t.turnId, t.seq).where(sql`status = 'pending'`),
  ],
);

/**
 * What each tenant used per quota window (SPEC §13.1), shared by every Soma process on the database:
 * `turns` per UTC minute (`window_start` = the minute), `tokens` per UTC day (the day's midnight).
 */
export const tenantUsage = pgTable(
  'tenant_usage',
  {
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['turns', 'tokens'] }).notNull(),
    windowStart: ts('window_start').notNull(),
    amount: bigint('amount', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.kind, t.windowStart] })],
);

/** A run of `soma eval` (SPEC §13.3): a dataset through the turn path under named configurations. */
export const evalRuns = pgTable(
  'eval_runs',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    userId: text('user_id').notNull(),
    /** The eval's name (the dataset's file name without `.jsonl`). */
    name: text('name').notNull(),
    /** SHA-256 of the dataset as run (a rerun of the same dataset and configurations resumes it). */
    datasetHash: text('dataset_hash').notNull(),
    /** The validated dataset: setup and items, so the run can resume without the file. */
    dataset: jsonb('dataset').notNull(),
    /** Configuration names in order (`single-shot`, `rlm`, `rlm:threshold=0.8`…). */
    configurations: jsonb('configurations').notNull(),
    status: text('status', { enum: ['running', 'completed', 'failed', 'interrupted'] }).notNull(),
    /** Per configuration: n, accuracy, mean_iterations, exit_reasons, tokens, p50_ms, p95_ms. */
    summary: jsonb('summary').notNull().default([]),
    /** The default model and settings the run used. */
    environment: jsonb('environment').notNull().default({}),
    error: text('error'),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    completedAt: ts('completed_at'),
  },
  (t) => [index('eval_runs_tenant_idx').on(t.tenantId, t.createdAt, t.id), index('eval_runs_status_idx').on(t.status)],
);

/** One item of an eval run under one configuration: the answer, whether it was right, and what it cost. */
export const evalResults = pgTable(
  'eval_results',
  {
    id: uuid('id').primaryKey(),
    runId: uuid('run_id').notNull().references(() => evalRuns.id, { onDelete: 'cascade' }),
    configuration: text('configuration').notNull(),
    itemIndex: integer('item_index').notNull(),
    input: text('input').notNull(),
    expected: text('expected').notNull(),
    match: text('match').notNull(),
    answer: text('answer').notNull(),
    correct: boolean('correct').notNull(),
    detail: text('detail'),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    turnId: uuid('turn_id'),
    conversationId: uuid('conversation_id'),
    capsuleId: uuid('capsule_id'),
    iterations: integer('iterations').notNull(),
    exitReason: text('exit_reason').notNull(),
    tokens: integer('tokens').notNull(),
    toolsUsed: text('tools_used').array().notNull().default(sql`'{}'::text[]`),
    latencyMs: integer('latency_ms').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('eval_results_item_idx').on(t.runId, t.configuration, t.itemIndex)],
);
