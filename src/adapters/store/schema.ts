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
    rlmConvergenceThreshold: doublePrecision('rlm_convergence_threshold').notNull().default(0.9),
    learningConfig: jsonb('learning_config').notNull().default({}),
    toolRegistry: jsonb('tool_registry').notNull().default([]),
    toolPolicy: jsonb('tool_policy').notNull().default({}),
    learnedWeights: jsonb('learned_weights').notNull(),
    neuromodulatorState: jsonb('neuromodulator_state').notNull(),
    rewardBaseline: doublePrecision('reward_baseline').notNull().default(0),
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
    conversationId: uuid('conversation_id').notNull().references(() => conversations.id),
    turnId: uuid('turn_id').references(() => turns.id),
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
    turnId: uuid('turn_id').notNull().references(() => turns.id),
    conversationId: uuid('conversation_id').notNull().references(() => conversations.id),
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
    capsuleId: uuid('capsule_id').notNull().references(() => capsules.id, { onDelete: 'cascade' }),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    /** `learn` (one iteration's step), `rollback` or `reset`. */
    kind: text('kind', { enum: ['learn', 'rollback', 'reset'] }).notNull().default('learn'),
    turnId: uuid('turn_id'),
    iterationNumber: integer('iteration_number'),
    weightsBefore: jsonb('weights_before').notNull(),
    weightsAfter: jsonb('weights_after').notNull(),
    neuromodulatorsBefore: jsonb('neuromodulators_before').notNull(),
    neuromodulatorsAfter: jsonb('neuromodulators_after').notNull(),
    baselineBefore: doublePrecision('baseline_before').notNull(),
    baselineAfter: doublePrecision('baseline_after').notNull(),
    reward: doublePrecision('reward'),
    advantage: doublePrecision('advantage'),
    /** The step's inputs (metrics and config), recorded so it can be recomputed. */
    inputs: jsonb('inputs').notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.capsuleId, t.seq] }), index('learning_updates_turn_idx').on(t.turnId)],
);

export const memories = pgTable(
  'memories',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    capsuleId: uuid('capsule_id').notNull().references(() => capsules.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    content: text('content').notNull(),
    importance: doublePrecision('importance').notNull().default(0.5),
    novelty: doublePrecision('novelty').notNull().default(0.5),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    search: tsvector('search').generatedAlwaysAs(sql`to_tsvector('english', coalesce(key, '') || ' ' || content)`),
    createdAt: createdAt(),
    lastRecalledAt: ts('last_recalled_at'),
  },
  (t) => [
    index('memories_scope_idx').on(t.tenantId, t.capsuleId, t.createdAt),
    index('memories_search_idx').using('gin', t.search),
    uniqueIndex('memories_scope_key_idx').on(t.tenantId, t.capsuleId, t.key),
  ],
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
    uniqueIndex('outbox_seq_idx').on(t.seq),
    index('outbox_pending_idx').on(t.status, t.nextRetryAt, t.seq),
    index('outbox_tenant_seq_idx').on(t.tenantId, t.seq),
    uniqueIndex('outbox_position_idx').on(t.position),
    index('outbox_tenant_position_idx').on(t.tenantId, t.position),
    index('outbox_unnumbered_idx').on(t.seq).where(sql`position IS NULL`),
    index('outbox_turn_pending_idx').on(t.turnId, t.seq).where(sql`status = 'pending'`),
  ],
);
