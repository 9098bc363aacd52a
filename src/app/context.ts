import type { AdmissionRules } from '../core/admission/index.js';
import type { HealthMonitor } from '../core/health/index.js';
import type { Brain } from '../ports/brain.js';
import type { Clock } from '../ports/clock.js';
import type { IdSource } from '../ports/id-source.js';
import type { ModelFactory } from '../ports/model-factory.js';
import type { Store } from '../ports/store.js';
import type { ToolRunner } from '../ports/tools.js';
import type { LiveTurns } from './live-turns.js';

/** What use cases need from the metrics adapter. */
export interface TurnMetricsSink {
  iteration(exitReason: string, score: number): void;
  turn(exitReason: string, iterations: number, seconds: number): void;
  tokens(model: string, prompt: number, completion: number): void;
  observeLearningLatency(seconds: number): void;
  countLearningSkipped(): void;
}

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Who is calling: resolved from a bearer API key. */
export interface Caller {
  tenantId: string;
  userId: string;
  /** Called with the tenant's admin key (created with the tenant, or with `admin: true`): reads every event of the tenant. */
  admin?: boolean;
}

/** Everything the use cases depend on; built once by the composition root. */
export interface AppContext {
  store: Store;
  brain: Brain;
  models: ModelFactory;
  toolRunner: ToolRunner;
  clock: Clock;
  ids: IdSource;
  /** Tokens of a text by a maintained tokenizer (replay's recorded model counts with it). */
  countTokens(text: string): number;
  /** Names of the built-in tools a capsule may list (kind `builtin`). */
  builtinTools: readonly string[];
  health: HealthMonitor;
  metrics: TurnMetricsSink;
  logger: Logger;
  /** The turns this process is running (live streams, drain). */
  live: LiveTurns;
  /** What capsules may name (registered MCP servers, scripted models); absent = none of either. */
  admission?: AdmissionRules;
  settings: {
    defaultModel: string;
    rlm: { enabled: boolean; singleShot: boolean; maxIterations?: number; convergenceThreshold?: number };
    turnTokenBudget: number;
    turnDeadlineMs: number;
    contextTokens: number;
    maxOutputTokens: number;
    brainTimeoutMs: number;
    /** How long an iteration that goes on waits to be written with the next ones (`SOMA_ITERATION_LINGER_MS`). */
    iterationLingerMs?: number;
    /** Interval of the `: ping` comment on a quiet SSE stream (SPEC §13.4: 15 s). */
    ssePingMs: number;
    /** How often a stream following a turn another process runs looks for its new events. */
    streamPollMs: number;
    /** Per-tenant quotas (`SOMA_TENANT_TURNS_PER_MINUTE`, `SOMA_TENANT_TOKENS_PER_DAY`); undefined = unlimited. */
    quotas?: { turnsPerMinute?: number | undefined; tokensPerDay?: number | undefined };
    /** The judges a capsule's scorer may name (`SOMA_JUDGE_MODELS`): name → model spec, chosen by the operator. */
    judges?: Record<string, string>;
    /** The operator's judge model for `match: "judge"` eval items (`SOMA_EVAL_JUDGE_MODEL`). */
    evalJudgeModel?: string;
  };
}

/** What the storage use cases need: the store, and where ids and time come from. */
export type StoreContext = Pick<AppContext, 'store' | 'ids' | 'clock'>;
