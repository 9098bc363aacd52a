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
import type { LearnedState, Neuromodulators, Weights } from '../../../ports/learning.js';
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
export function createHttpBrain({ url, apiKey, token, timeoutMs = 2_000, metrics, fetch = globalThis.fetch }: HttpBrainOptions): HttpBrain {
  const base = url.replace(/\/+$/, '');
  const key = apiKey ?? token;
  let health: BrainHealth = 'unknown';

  /** One call: network errors, timeouts and 5xx throw BRAIN_UNAVAILABLE; a 4xx answer is the brain's refusal. */
  async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal, tenantId?: string): Promise<Result<T, Failure>> {
    const timeout = AbortSignal.timeout(timeoutMs);
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
      const reason = timeout.aborted ? `timed out after ${timeoutMs} ms` : signal?.aborted ? 'cancelled' : (cause as Error).message;
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
  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal, tenantId?: string): Promise<T> {
    const answer = await request<T>(method, path, body, signal, tenantId);
    if (!answer.ok) throw new SomaError(answer.error.code, answer.error.message, { details: answer.error.details });
    return answer.value;
  }

  return {
    health: () => health,

    async publishTurnMetrics(request: PublishTurnMetricsRequest, options: { signal?: AbortSignal } = {}): Promise<PublishTurnMetricsResponse> {
      const started = process.hrtime.bigint();
      try {
        const response = await call<PublishTurnMetricsWire>('POST', '/v1/learning/publish_turn_metrics', request, options.signal, request.tenant);
        metrics?.observeLearningLatency(Number(process.hrtime.bigint() - started) / 1e9);
        return fromWire(response);
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
      await call('POST', '/v1/memory/remember', { capsule_id: scope.capsuleId, ...memory }, undefined, scope.tenantId);
    },

    async recall(scope: BrainScope, query: RecallQuery): Promise<RecalledMemory[]> {
      const answer = await call<{ results: RecalledMemory[] }>('POST', '/v1/memory/recall', { capsule_id: scope.capsuleId, ...query }, undefined, scope.tenantId);
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

/** Learned state as the brain routes send it (snake_case). */
export interface LearnedStateWire {
  weights: Weights;
  neuromodulators: Neuromodulators;
  reward_baseline: number;
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
}

function fromWire(wire: PublishTurnMetricsWire): PublishTurnMetricsResponse {
  const state = (s: LearnedStateWire | undefined): LearnedState | undefined =>
    s === undefined ? undefined : { weights: s.weights, neuromodulators: s.neuromodulators, rewardBaseline: s.reward_baseline };
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
