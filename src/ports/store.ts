import type { JsonSchema } from '../shared/json.js';
import type { LlmOutput, ToolCall } from './chat-model.js';
import type { Evidence, LearningSource, Neuromodulators, Weights } from './learning.js';
import type { EventEnvelope, Outbox } from './outbox.js';
import type { ToolOutcome, ToolPolicy } from './tools.js';

// ---- records ------------------------------------------------------------------------------------

/** A tenant (SPEC §2 `tenants`). */
export interface TenantRecord {
  id: string;
  name: string;
}

/** What authentication needs of an API key; only the key's SHA-256 is stored. */
export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  userId: string;
  /** The tenant's admin key: reads every event of the tenant (SPEC §13.1). */
  admin: boolean;
  /** Set once the key is revoked; a revoked key never authenticates again. */
  revokedAt: Date | null;
}

/** A capability (tool) of a capsule (SPEC §2 `capabilities`). */
export interface CapabilityRecord {
  name: string;
  kind: 'builtin' | 'mcp';
  description: string;
  inputSchema: JsonSchema | null;
  config: Record<string, unknown>;
  enabled: boolean;
  timeoutMs: number;
  requiresApproval: boolean;
}

/** A new capability; `id` comes from the caller's IdSource. */
export interface NewCapability extends CapabilityRecord {
  id: string;
}

/** The capsule fields a tenant sets (create) or changes (patch). */
export interface CapsuleSettings {
  name: string;
  systemPrompt: string;
  model: string | null;
  allowedModels: string[];
  rlmEnabled: boolean;
  rlmMaxIterations: number;
  rlmMinIterations: number;
  rlmConvergenceThreshold: number;
  learningConfig: Record<string, unknown>;
  /** Names of the capsule's tools, in order. */
  toolRegistry: string[];
  toolPolicy: ToolPolicy;
}

/** A capsule with its capabilities (SPEC §2 `capsules`). */
export interface CapsuleRecord extends CapsuleSettings {
  id: string;
  tenantId: string;
  /** 1 on create, +1 on every patch. */
  version: number;
  learnedWeights: Weights;
  neuromodulatorState: Neuromodulators;
  rewardBaseline: number;
  /** `seq` of the capsule's last learning history row (0 when there is none). */
  learningVersion: number;
  createdAt: Date;
  updatedAt: Date;
  capabilities: CapabilityRecord[];
}

/** A new capsule at its starting learned state. */
export interface NewCapsule extends CapsuleSettings {
  id: string;
  tenantId: string;
  learnedWeights: Weights;
  neuromodulatorState: Neuromodulators;
  rewardBaseline: number;
  createdAt: Date;
}

/** A patch of a capsule: the changed settings, its new version and, when given, the new capability list. */
export interface CapsuleChanges {
  settings: Partial<CapsuleSettings>;
  version: number;
  updatedAt: Date;
  /** Replaces every capability of the capsule when present. */
  capabilities?: NewCapability[];
}

export type ParticipantRole = 'owner' | 'participant' | 'observer';

/** A conversation (SPEC §2 `conversations`). */
export interface ConversationRecord {
  id: string;
  tenantId: string;
  capsuleId: string;
  /** The user who created it (its owner). */
  userId: string;
  title: string | null;
  status: 'active' | 'archived';
  messageCount: number;
  createdAt: Date;
}

export type NewConversation = Omit<ConversationRecord, 'status' | 'messageCount'>;

/** A message of a conversation (SPEC §2 `messages`). */
export interface MessageRecord {
  id: string;
  conversationId: string;
  turnId: string | null;
  role: 'user' | 'assistant' | 'system';
  content: string;
  tokenCount: number | null;
  model: string | null;
  latencyMs: number | null;
  metadata: Record<string, unknown>;
  createdAt: Date;
}

export type NewMessage = Pick<MessageRecord, 'id' | 'conversationId' | 'turnId' | 'role' | 'content' | 'createdAt'> &
  Partial<Pick<MessageRecord, 'tokenCount' | 'model' | 'latencyMs' | 'metadata'>>;

export type TurnStatus = 'running' | 'awaiting_approval' | 'completed' | 'failed' | 'interrupted';

/** A turn that no process runs any more and that nobody waits for: closed (possibly resumable). */
export const closedTurnStatuses: readonly TurnStatus[] = ['completed', 'failed', 'interrupted'];

/**
 * Consecutive SSE events of a turn stored in one write (`id`s `first … last`, SPEC §13.4): the
 * turn's start and each close are stored with the turn row, each iteration's with its iteration.
 */
export interface StreamEventBatch {
  first: number;
  last: number;
  /** `[event, data]` of ids `first`, `first + 1`, … */
  events: [string, unknown][];
}

/** One stored SSE event of a turn. */
export interface StoredStreamEvent {
  id: number;
  event: string;
  data: unknown;
}

/** A turn (SPEC §2 `turns`): one user message and the iterations that answered it. */
export interface TurnRecord {
  id: string;
  conversationId: string;
  capsuleId: string;
  tenantId: string;
  userId: string;
  status: TurnStatus;
  /** SHA-256 of the user message. */
  inputHash: string;
  seed: number;
  exitReason: string | null;
  iterations: number;
  convergenceScore: number | null;
  weightsStart: Weights;
  neuromodulatorsStart: Neuromodulators;
  /** Everything else replay needs: model id, threshold, min/max, budgets, learning config. */
  settings: Record<string, unknown>;
  error: { code: string; message: string; iteration?: number } | null;
  startedAt: Date;
  completedAt: Date | null;
  /** When the current run began (the start, or the last resumption). */
  runStartedAt: Date;
  /** How many times the turn was resumed after it had been closed. */
  resumes: number;
}

export type NewTurn = Omit<TurnRecord, 'status' | 'exitReason' | 'iterations' | 'convergenceScore' | 'error' | 'completedAt' | 'runStartedAt' | 'resumes'> & {
  /** The `turn.started` event, stored with the turn. */
  streamEvents: StreamEventBatch;
};

/** How a turn ended. */
export type TurnOutcome = Pick<TurnRecord, 'status' | 'exitReason' | 'iterations' | 'convergenceScore' | 'error'> & {
  completedAt: Date;
  /** The SSE events of the close (and any the turn emitted since its last stored write). */
  streamEvents?: StreamEventBatch;
};

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

/** A tool call waiting for a person's decision, or decided (SPEC §13.4 approvals). */
export interface ApprovalRecord {
  id: string;
  turnId: string;
  tenantId: string;
  conversationId: string;
  capsuleId: string;
  iterationNumber: number;
  callId: string;
  tool: string;
  args: unknown;
  status: ApprovalStatus;
  reason: string | null;
  decidedBy: string | null;
  requestedAt: Date;
  expiresAt: Date;
  decidedAt: Date | null;
  /** The call's outcome once the decision was applied (what the model saw; what replay plays back). */
  outcome: ToolOutcome | null;
}

export type NewApproval = Omit<ApprovalRecord, 'status' | 'reason' | 'decidedBy' | 'decidedAt' | 'outcome'>;

/** One stored iteration of a turn (SPEC §2 `rlm_iterations`). */
export interface IterationRow {
  id: string;
  turnId: string;
  conversationId: string;
  iterationNumber: number;
  content: string;
  /** The raw model output: what replay plays back. */
  llmOutput: LlmOutput;
  weightsBefore: Weights;
  weightsAfter: Weights;
  weightDeltas: Weights;
  neuromodulatorsBefore: Neuromodulators;
  neuromodulatorsAfter: Neuromodulators;
  model: string;
  confidence: number | null;
  latencyMs: number;
  toolCalls: ToolCall[];
  toolResults: ToolOutcome[];
  promptTokens: number;
  completionTokens: number;
  convergenceScore: number;
  exitReason: string;
  /** The app's iteration metadata (learning, metrics, context, policy decisions…), stored as JSON. */
  metadata: unknown;
  startedAt: Date;
  completedAt: Date;
  /** The SSE events emitted since the turn's previous write, stored with the iteration. */
  streamEvents?: StreamEventBatch;
}

/** A stored iteration with the time it was written. */
export interface StoredIteration extends IterationRow {
  createdAt: Date;
}

/** One row of a capsule's learning history (SPEC §5 `learning_updates`), as replay reads it. */
export interface LearningUpdateRecord {
  seq: number;
  kind: 'learn' | 'rollback' | 'reset';
  /** `iteration` or `feedback` for a `learn` row (null for rollback and reset, and for rows older than the column). */
  source: LearningSource | null;
  turnId: string | null;
  iterationNumber: number | null;
  weightsBefore: Weights;
  neuromodulatorsBefore: Neuromodulators;
  baselineBefore: number;
  evidenceBefore: Evidence;
  weightsAfter: Weights;
  neuromodulatorsAfter: Neuromodulators;
  baselineAfter: number;
  evidenceAfter: Evidence;
  /** The step's recorded inputs (metrics or feedback totals, and the capsule's `learning_config` at step time). */
  inputs: Record<string, unknown>;
}

/** An outbox row as `/v1/events` serves it: the envelope with its delivery state. */
export interface StoredEvent {
  /** The event's position in the log: given after commit, in commit order (the `/v1/events` cursor). */
  seq: number;
  payload: EventEnvelope;
  status: 'pending' | 'published' | 'dead';
  attempts: number;
  publishedAt: Date | null;
}

/** A keyset position in a list ordered newest first: rows strictly older than (`at`, `id`). */
export interface KeysetPosition {
  at: Date;
  id: string;
}

// ---- repositories -------------------------------------------------------------------------------

export interface TenantRepository {
  /** Writes a tenant. */
  insert(tenant: TenantRecord): Promise<void>;
  /** The tenant, or undefined when there is none with this id. */
  find(id: string): Promise<TenantRecord | undefined>;
  /** Whether any tenant exists (the embedded set-up creates a first one). */
  hasAny(): Promise<boolean>;
}

export interface ApiKeyRepository {
  /** Stores a key by its SHA-256 `hash`. */
  insert(key: { id: string; tenantId: string; userId: string; hash: string; admin?: boolean }): Promise<void>;
  /** The key with this hash, revoked or not; undefined when unknown. */
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  /** Revokes the live key with this hash at `at`; false when there was none. */
  revokeByHash(hash: string, at: Date): Promise<boolean>;
  /** Revokes the key with this id at `at` (a revoked key keeps its first revocation time); false when the id is unknown. */
  revokeById(id: string, at: Date): Promise<boolean>;
}

export interface CapsuleRepository {
  /** Writes a capsule (version 1, learning version 0) and its capabilities; returns it as stored. */
  insert(capsule: NewCapsule, capabilities: NewCapability[]): Promise<CapsuleRecord>;
  /** The tenant's capsule with its capabilities; undefined for an unknown id or another tenant's capsule. */
  find(tenantId: string, id: string): Promise<CapsuleRecord | undefined>;
  /** Applies a patch (settings, version, optionally the whole capability list); returns the capsule as stored. */
  update(id: string, changes: CapsuleChanges): Promise<CapsuleRecord>;
  /** Up to `limit` capsules of the tenant, newest first, strictly after `after`. */
  list(tenantId: string, page: { limit: number; after?: KeysetPosition }): Promise<CapsuleRecord[]>;
}

export interface ConversationRepository {
  /** Writes a conversation and makes its user the owner participant. */
  insert(conversation: NewConversation): Promise<ConversationRecord>;
  /** The tenant's conversation; undefined for an unknown id or another tenant's. */
  find(tenantId: string, id: string): Promise<ConversationRecord | undefined>;
  /**
   * The tenant's conversation with `userId`'s role in it (null when the user does not take part);
   * undefined for an unknown id or another tenant's.
   */
  findWithRole(tenantId: string, userId: string, id: string): Promise<{ conversation: ConversationRecord; role: ParticipantRole | null } | undefined>;
  /**
   * What a new turn starts from, in one read: the tenant's conversation with `userId`'s role in it (null
   * when the user does not take part), its capsule (undefined when it is gone) and the conversation's
   * latest `historyLimit` user and assistant messages, oldest first. Undefined for an unknown id or
   * another tenant's.
   */
  findForTurn(
    tenantId: string,
    userId: string,
    id: string,
    historyLimit: number,
  ): Promise<{ conversation: ConversationRecord; role: ParticipantRole | null; capsule: CapsuleRecord | undefined; recent: Pick<MessageRecord, 'id' | 'role' | 'content'>[] } | undefined>;
  /** Adds `count` to the conversation's message count. */
  countMessages(id: string, count: number): Promise<void>;
  /**
   * Up to `limit` of the tenant's conversations `userId` takes part in (any role), newest first,
   * strictly after `after`, optionally of one capsule.
   */
  listForUser(tenantId: string, userId: string, page: { limit: number; after?: KeysetPosition; capsuleId?: string }): Promise<{ conversation: ConversationRecord; role: ParticipantRole }[]>;
}

export interface MessageRepository {
  insert(message: NewMessage): Promise<void>;
  /**
   * The last `limit` user and assistant messages of a conversation, oldest first (the turn's
   * history); with `before`, only messages created before it (a resumed turn's history).
   */
  recentHistory(conversationId: string, limit: number, before?: Date): Promise<Pick<MessageRecord, 'id' | 'role' | 'content'>[]>;
  /** Replaces the answer of a turn (a resumed turn's close); false when the turn has none yet. */
  replaceAnswer(turnId: string, answer: Pick<MessageRecord, 'content' | 'tokenCount' | 'model' | 'latencyMs' | 'metadata' | 'createdAt'>): Promise<boolean>;
  /** Every message of a conversation in order. */
  listByConversation(conversationId: string): Promise<MessageRecord[]>;
  /** The messages of one turn in order. */
  listByTurn(turnId: string): Promise<MessageRecord[]>;
}

export interface TurnRepository {
  /** Writes a turn as `running`. */
  insert(turn: NewTurn): Promise<void>;
  /**
   * Closes a turn that is still `running` (appending `outcome.streamEvents`); false — and nothing
   * written — when it is not running any more (another process closed it).
   */
  finish(id: string, outcome: TurnOutcome): Promise<boolean>;
  /** Moves a turn from one status to another (`awaiting_approval` ↔ `running`); false when it was not in `from`. */
  setStatus(id: string, { from, to, at }: { from: TurnStatus; to: TurnStatus; at: Date }): Promise<boolean>;
  /**
   * Reopens a closed turn (`interrupted` or `failed`) for a new run: status `running`, its close
   * cleared, `resumes` + 1. Returns the turn as reopened; undefined when it was not resumable.
   */
  reopen(id: string, at: Date): Promise<TurnRecord | undefined>;
  /** Any tenant's turn by id (replay from the CLI); undefined when unknown. */
  find(id: string): Promise<TurnRecord | undefined>;
  /** The tenant's turn; undefined for an unknown id or another tenant's. */
  findInTenant(tenantId: string, id: string): Promise<TurnRecord | undefined>;
  /** How many turns a conversation has. */
  countByConversation(conversationId: string): Promise<number>;
  /** Up to `limit` turns of a conversation, newest first (by start), strictly after `after`. */
  listByConversation(conversationId: string, page: { limit: number; after?: KeysetPosition }): Promise<TurnRecord[]>;
  /** Ids of the turns that are not running, oldest first, of one conversation and/or started since a time. */
  listFinishedIds(filter: { conversationId?: string; since?: Date }): Promise<string[]>;
  /** Ids of turns still `running` whose current run began before `runStartedBefore` (the crash sweep's candidates), oldest first. */
  listStale(runStartedBefore: Date, limit: number): Promise<string[]>;
}

export interface IterationRepository {
  /** Writes one iteration; a second one with the same (turn, iteration number) is a fault. */
  insert(iteration: IterationRow): Promise<void>;
  /** A turn's iterations in order. */
  listByTurn(turnId: string): Promise<StoredIteration[]>;
  /**
   * Records on a turn's last iteration the reason the turn ended when the loop's own decision there
   * was `continue` (cancelled, error, interrupted…); the decision is kept in `metadata.decided`.
   */
  markLastExit(turnId: string, iterationNumber: number, exitReason: string): Promise<void>;
  /** Undoes {@link markLastExit} on a turn that runs again (its last iteration continues). */
  restoreLastExit(turnId: string): Promise<void>;
}

export interface StreamEventRepository {
  /** The turn's stored SSE events with `id` > `after` (and ≤ `through` when given), in order. */
  list(turnId: string, range: { after: number; through?: number }): Promise<StoredStreamEvent[]>;
  /** The highest stored event id of the turn (0 when none). */
  lastId(turnId: string): Promise<number>;
}

export interface ApprovalRepository {
  /** Writes the approvals of one pause. */
  insertMany(approvals: NewApproval[]): Promise<void>;
  /** The approval of one call of a turn. */
  find(turnId: string, callId: string): Promise<ApprovalRecord | undefined>;
  /** Every approval of a turn, by iteration then request order. */
  listByTurn(turnId: string): Promise<ApprovalRecord[]>;
  /**
   * Decides a `pending` approval; undefined (nothing written) when it is not pending any more.
   */
  decide(turnId: string, callId: string, decision: { status: 'approved' | 'denied' | 'expired'; reason: string | null; decidedBy: string | null; at: Date }): Promise<ApprovalRecord | undefined>;
  /** Stores the outcome a decided call produced. */
  setOutcome(turnId: string, callId: string, outcome: ToolOutcome): Promise<void>;
  /** How many approvals of the turn are still pending. */
  countPending(turnId: string): Promise<number>;
  /** Pending approvals whose time ran out at `now` (oldest first). */
  listExpired(now: Date, limit: number): Promise<ApprovalRecord[]>;
  /**
   * Approvals of the tenant's conversations `userId` takes part in (any role), newest first, of one
   * status or all; `limit` rows strictly older than `after`.
   */
  listForUser(tenantId: string, userId: string, page: { status?: ApprovalStatus; limit: number; after?: KeysetPosition }): Promise<ApprovalRecord[]>;
}

export interface LearningUpdateRepository {
  /** The learning history rows a turn wrote, in `seq` order (replay starts each iteration from them). */
  listByTurn(turnId: string): Promise<LearningUpdateRecord[]>;
}

export interface EventRepository {
  /**
   * Up to `limit` of the tenant's events with position > `after`, in position order. Events get their
   * position after they committed, in commit order (numbered here, before reading), so a reader
   * following `after` never skips a transaction that committed late. With `readableBy`, only the
   * events that user may read: those of conversations they take part in (an event with a `turn_id`
   * belongs to that turn's conversation, else to the `conversation_id` of its payload), and those tied
   * to no conversation.
   */
  listForTenant(tenantId: string, page: { after: number; limit: number; readableBy?: string }): Promise<StoredEvent[]>;
  /** Rows still `pending` (the `outbox_pending` gauge). */
  countPending(): Promise<number>;
  /**
   * Deletes up to `limit` rows created before `before` whose status is one of `statuses` (outbox
   * retention); returns how many.
   */
  deleteOlderThan(filter: { before: Date; statuses: ('pending' | 'published' | 'dead')[]; limit: number }): Promise<number>;
}

/** What a tenant used in one quota window (SPEC §13.1): turns per minute, tokens per day. */
export type UsageKind = 'turns' | 'tokens';

export interface UsageRepository {
  /**
   * Counts one turn in the tenant's window that starts at `windowStart`, unless `limit` turns are
   * counted there already: one atomic statement, so concurrent servers never admit more than `limit`.
   * The count after admitting, or undefined when refused (nothing is written then).
   */
  admitTurn(tenantId: string, windowStart: Date, limit: number): Promise<number | undefined>;
  /** Adds `tokens` to the tenant's token window that starts at `windowStart`. */
  addTokens(tenantId: string, windowStart: Date, tokens: number): Promise<void>;
  /** What the tenant used in the window of `kind` that starts at `windowStart` (0 when nothing). */
  used(tenantId: string, kind: UsageKind, windowStart: Date): Promise<number>;
  /** Deletes the tenant's windows of `kind` that started before `before`. */
  forget(tenantId: string, kind: UsageKind, before: Date): Promise<void>;
}

/** A user's feedback on a turn (SPEC §13.2 `turn_feedback`). */
export interface FeedbackRecord {
  turnId: string;
  userId: string;
  tenantId: string;
  capsuleId: string;
  conversationId: string;
  /** The user's latest score in [−1, 1]. */
  score: number;
  comment: string | null;
  /** The turn's feedback revision this row last took (the feedback learning step's `iteration_number`). */
  revision: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface FeedbackRepository {
  /** A user's feedback on a turn; undefined when there is none. */
  find(turnId: string, userId: string): Promise<FeedbackRecord | undefined>;
  /** Writes (or replaces) a user's feedback and gives it the turn's next revision, which it returns. */
  save(feedback: Omit<FeedbackRecord, 'revision' | 'createdAt' | 'updatedAt'> & { at: Date }): Promise<number>;
  /** Changes only the comment. */
  updateComment(turnId: string, userId: string, comment: string | null, at: Date): Promise<void>;
  /** The sum of every user's latest score on the turn. */
  total(turnId: string): Promise<number>;
}

export type EvalRunStatus = 'running' | 'completed' | 'failed' | 'interrupted';

/** A stored `soma eval` run (`eval_runs`). */
export interface EvalRunRecord {
  id: string;
  tenantId: string;
  userId: string;
  name: string;
  datasetHash: string;
  /** The validated dataset (`{name, setup, items}`), as JSON. */
  dataset: unknown;
  configurations: string[];
  status: EvalRunStatus;
  /** One summary per configuration (the `runs` of the JSON line), as JSON. */
  summary: unknown[];
  environment: Record<string, unknown>;
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

/** One item under one configuration (`eval_results`). */
export interface EvalResultRecord {
  id: string;
  runId: string;
  configuration: string;
  itemIndex: number;
  input: string;
  expected: string;
  match: string;
  answer: string;
  correct: boolean;
  detail: string | null;
  tags: string[];
  turnId: string | null;
  conversationId: string | null;
  capsuleId: string | null;
  iterations: number;
  exitReason: string;
  tokens: number;
  toolsUsed: string[];
  latencyMs: number;
  createdAt: Date;
}

export interface EvalRepository {
  insertRun(run: Omit<EvalRunRecord, 'summary' | 'error' | 'completedAt' | 'updatedAt'>): Promise<void>;
  findRun(tenantId: string, id: string): Promise<EvalRunRecord | undefined>;
  /** Up to `limit` of the tenant's runs, newest first, strictly older than `after`. */
  listRuns(tenantId: string, page: { limit: number; after?: KeysetPosition }): Promise<EvalRunRecord[]>;
  /** The tenant's newest unfinished run of this dataset and these configurations (a rerun resumes it). */
  findResumable(tenantId: string, datasetHash: string, configurations: string[]): Promise<EvalRunRecord | undefined>;
  /** A run of the tenant still `running`, if any. */
  findRunning(tenantId: string): Promise<EvalRunRecord | undefined>;
  updateRun(id: string, changes: Partial<Pick<EvalRunRecord, 'status' | 'summary' | 'error' | 'completedAt' | 'updatedAt'>>): Promise<void>;
  /** Stores one result; the same (run, configuration, item) twice is ignored (a resumed run may race). */
  insertResult(result: EvalResultRecord): Promise<void>;
  listResults(runId: string): Promise<EvalResultRecord[]>;
  /** Marks runs left `running` with no activity since `updatedBefore` as `interrupted`; how many. */
  markInterrupted(updatedBefore: Date): Promise<number>;
}

/** The repositories of one unit of work: the store itself (each call on its own) or an open transaction. */
export interface Repositories {
  tenants: TenantRepository;
  apiKeys: ApiKeyRepository;
  capsules: CapsuleRepository;
  conversations: ConversationRepository;
  messages: MessageRepository;
  turns: TurnRepository;
  iterations: IterationRepository;
  learningUpdates: LearningUpdateRepository;
  events: EventRepository;
  streamEvents: StreamEventRepository;
  approvals: ApprovalRepository;
  usage: UsageRepository;
  feedback: FeedbackRepository;
  evals: EvalRepository;
  /** The outbox writer of this unit of work. */
  outbox: Outbox;
}

/**
 * Soma's storage as the use cases see it. Calls on the store itself run on their own; calls on the
 * `tx` of {@link Store.transaction} commit together or not at all. A database that cannot be reached
 * (refused, reset or lost connections, server shutting down) throws `SomaError('DATABASE_UNAVAILABLE')`
 * (retryable); other faults throw the driver's error; missing rows are `undefined`, never thrown.
 */
export interface Store extends Repositories {
  /** Runs `work` in one transaction: it commits when `work` resolves and rolls back when it rejects. */
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
  /** Cheap round trip; throws `SomaError('DATABASE_UNAVAILABLE')` while the database cannot be reached. */
  ping(): Promise<void>;
  /**
   * The repositories of a transaction another adapter opened on the same database and handed back as
   * an opaque handle — the in-process brain's learning step (`PublishOptions.persist`), so an
   * iteration commits in the step's own transaction.
   */
  joinTransaction(handle: unknown): Repositories;
  /**
   * Runs the writes `work` makes as ONE statement (one round trip, one commit) once it resolves:
   * `work` may only write (a read throws); a write that reports whether it matched (`finish`,
   * `setStatus`…) is told it did, and when one in fact matched no row nothing is written and this
   * resolves undefined. Else it resolves what `work` resolved.
   *
   * With `group`, calls of the same group made while its previous statement runs are written together
   * in the next one (a group commit: one round trip and one commit for all); when that statement's
   * conditional writes do not all match, or it certainly rolled back (a deadlock, a serialization
   * failure, one call's constraint), each call is written in a statement of its own, so every caller
   * gets its own outcome.
   */
  oneStatement<T>(work: (tx: Repositories) => Promise<T>, options?: { group?: string }): Promise<T | undefined>;
}
