import type {
  Brain,
  BrainScope,
  LearningHistoryPage,
  MemoryRecord,
  PublishTurnMetricsRequest,
  PublishTurnMetricsResponse,
  RecalledMemory,
  RecallQuery,
  RewindResult,
} from '../../../ports/brain.js';
import type { Evidence, LearnedState, Neuromodulators, Weights } from '../../../ports/learning.js';
import { isErrorCode, SomaError, type ErrorCode, type Failure } from '../../../shared/errors.js';
import { err, ok, type Result } from '../../../shared/result.js';
import type { BrainHealth, BrainMetricsSink } from '../brain-metrics.js';

/** A brain reached over HTTP (`SOMA_BRAIN_URL`), e.g. a `soma brain serve` process. */
export interface HttpBrain extends Brain {
  health(): BrainHealth;
}

export interface HttpBrainOptions {
  /** Base URL of the brain, e.g. `http://brain:8080`. */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Alias of `apiKey`. */
  token?: string;
  /** Each call fails with BRAIN_UNAVAILABLE after this long (default 2 s, `SOMA_BRAIN_TIMEOUT_MS`). */
  timeoutMs?: number;
  /**
   * Attempts of one `publish_turn_metrics` within `timeoutMs` (default 2, each with `timeoutMs / attempts`).
   * The step is idempotent per (capsule, turn, iteration, source), so a retry after a lost answer gets
   * the stored result back and appends nothing.
   */
  publishAttempts?: number;
  metrics?: BrainMetricsSink;
  /** The fetch to use (default the global one). */
  fetch?: typeof globalThis.fetch;
}

/**
 * The HTTP client of the brain routes (`/v1/learning/*`, `/v1/memory/*`). Network errors, timeouts and
 * 5xx answers throw `SomaError('BRAIN_UNAVAILABLE')` and mark the brain unhealthy; any answer from the
 * brain (2xx, or a 4xx with its error code — re-thrown as that `SomaError` by the turn-path methods,
 * returned as a failure by the learning-history ones) marks it healthy again.
 * There is no circuit breaker: a down brain refuses connections at once, a hung one costs one timeout.
 */
export function createHttpBrain({ url, apiKey, token, timeoutMs = 2_000, publishAttempts = 2, metrics, fetch = globalThis.fetch }: HttpBrainOptions): HttpBrain {
  const base = url.replace(/\/+$/, '');
  const key = apiKey ?? token;
  let health: BrainHealth = 'unknown';

  /** One call: network errors, timeouts and 5xx throw BRAIN_UNAVAILABLE; a 4xx answer is the brain's refusal. */
  async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal, tenantId?: string, limitMs = timeoutMs): Promise<Result<T, Failure>> {
    const timeout = AbortSignal.timeout(limitMs);
    const combined = signal ? AbortSignal.any([timeout, signal]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(key ? { authorization: `Bearer ${key}` } : {}), ...(tenantId ? { 'x-soma-tenant': tenantId } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: combined,
      });
      text = await response.text();
    } catch (cause) {
      health = 'unhealthy';
      const reason = timeout.aborted ? `timed out after ${limitMs} ms` : signal?.aborted ? 'cancelled' : (cause as Error).message;
      throw new SomaError('BRAIN_UNAVAILABLE', `brain at ${base} unavailable: ${reason}`, { retryable: true, cause });
    }
    if (response.status >= 500) {
      health = 'unhealthy';
      throw new SomaError('BRAIN_UNAVAILABLE', `brain at ${base} answered ${response.status}: ${errorMessageOf(text) ?? 'server error'}`, { retryable: true });
    }
    health = 'healthy';
    const parsed = text === '' ? undefined : safeJson(text);
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
      const code: ErrorCode = isErrorCode(error?.code) ? error.code : response.status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST';
      return err({ code, message: error?.message ?? `brain answered ${response.status}`, ...(error?.details === undefined ? {} : { details: error.details }) });
    }
    return ok(parsed as T);
  }

  /** A call whose refusal is thrown as that `SomaError` (the turn-path methods). */
  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal, tenantId?: string, limitMs = timeoutMs): Promise<T> {
    const answer = await request<T>(method, path, body, signal, tenantId, limitMs);
    if (!answer.ok) throw new SomaError(answer.error.code, answer.error.message, { details: answer.error.details });
    return answer.value;
  }

  return {
    health: () => health,

    async publishTurnMetrics(request: PublishTurnMetricsRequest, options: { signal?: AbortSignal } = {}): Promise<PublishTurnMetricsResponse> {
      const started = process.hrtime.bigint();
      const attempts = Math.max(1, Math.floor(publishAttempts));
      try {
        for (let attempt = 1; ; attempt += 1) {
          try {
            const response = await call<PublishTurnMetricsWire>('POST', '/v1/learning/publish_turn_metrics', request, options.signal, request.tenant, timeoutMs / attempts);
            metrics?.observeLearningLatency(Number(process.hrtime.bigint() - started) / 1e9);
            return fromWire(response);
          } catch (error) {
            // Idempotent per (capsule, turn, iteration, source): a retry after a lost answer returns the stored step.
            if (attempt >= attempts || options.signal?.aborted || !(error instanceof SomaError && error.code === 'BRAIN_UNAVAILABLE')) throw error;
          }
        }
      } catch (error) {
        if (error instanceof SomaError && error.code === 'BRAIN_UNAVAILABLE') metrics?.countLearningSkipped();
        throw error;
      }
    },

    async getState(scope: BrainScope): Promise<LearnedState & { learning_version: number }> {
      const state = await call<StateWire>('GET', `/v1/learning/state?capsule_id=${encodeURIComponent(scope.capsuleId)}`, undefined, undefined, scope.tenantId);
      return { weights: state.weights, neuromodulators: state.neuromodulators, rewardBaseline: state.reward_baseline, learning_version: state.learning_version };
    },

    async remember(scope: BrainScope, memory: MemoryRecord): Promise<void> {
      await call('POST', '/v1/memory/remember', { capsule_id: scope.capsuleId, ...userOf(scope), ...memory }, undefined, scope.tenantId);
    },

    async recall(scope: BrainScope, query: RecallQuery): Promise<RecalledMemory[]> {
      const answer = await call<{ results: RecalledMemory[] }>('POST', '/v1/memory/recall', { capsule_id: scope.capsuleId, ...userOf(scope), ...query }, undefined, scope.tenantId);
      return answer.results;
    },

    learningHistory: (scope, { limit, after }) =>
      request<LearningHistoryPage>('GET', `/v1/learning/history?capsule_id=${encodeURIComponent(scope.capsuleId)}&limit=${limit}&after=${after}`, undefined, undefined, scope.tenantId),

    // A remote brain never runs `options.persist`: the caller records the rewind's event itself.
    rollbackLearning: (scope, to) =>
      request<RewindResult>('POST', '/v1/learning/rollback', { capsule_id: scope.capsuleId, ...('seq' in to ? { to_seq: to.seq } : { to_turn_id: to.turnId }) }, undefined, scope.tenantId),

    resetLearning: (scope) => request<RewindResult>('POST', '/v1/learning/reset', { capsule_id: scope.capsuleId }, undefined, scope.tenantId),
  };
}

/** The user a memory call acts for (the brain honours it only from a service caller). */
const userOf = (scope: BrainScope) => (scope.userId !== undefined ? { user_id: scope.userId } : {});

/** Learned state as the brain routes send it (snake_case). */
export interface LearnedStateWire {
  weights: Weights;
  neuromodulators: Neuromodulators;
  reward_baseline: number;
  evidence?: Evidence;
}

interface StateWire extends LearnedStateWire {
  learning_version: number;
}

/** `publish_turn_metrics` response as the brain routes send it. */
export interface PublishTurnMetricsWire {
  status: 'success' | 'skipped';
  weights: Weights;
  neuromodulators: Neuromodulators;
  seq?: number;
  before?: LearnedStateWire;
  after?: LearnedStateWire;
  reward?: number;
  advantage?: number;
  learned?: boolean;
  replayed?: boolean;
  capsule_id?: string;
}

function fromWire(wire: PublishTurnMetricsWire): PublishTurnMetricsResponse {
  const state = (s: LearnedStateWire | undefined): LearnedState | undefined =>
    s === undefined ? undefined : { weights: s.weights, neuromodulators: s.neuromodulators, rewardBaseline: s.reward_baseline, ...(s.evidence && Object.keys(s.evidence).length > 0 ? { evidence: s.evidence } : {}) };
  const before = state(wire.before);
  const after = state(wire.after);
  return {
    status: wire.status,
    weights: wire.weights,
    neuromodulators: wire.neuromodulators,
    ...(wire.seq !== undefined ? { seq: wire.seq } : {}),
    ...(before ? { before } : {}),
    ...(after ? { after } : {}),
    ...(wire.reward !== undefined ? { reward: wire.reward } : {}),
    ...(wire.advantage !== undefined ? { advantage: wire.advantage } : {}),
    ...(wire.learned !== undefined ? { learned: wire.learned } : {}),
    ...(wire.replayed !== undefined ? { replayed: wire.replayed } : {}),
    ...(wire.capsule_id !== undefined ? { capsule_id: wire.capsule_id } : {}),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorMessageOf(text: string): string | undefined {
  const parsed = safeJson(text) as { error?: { message?: string } } | undefined;
  return parsed?.error?.message;
}
