/**
 * The Studio's client of the public Soma HTTP API (no server code is imported: the Studio works
 * against any Soma that serves it). The API key lives in this tab's session storage only.
 */
const keyName = 'soma.studio.apiKey';

export function apiKey(): string | null {
  return sessionStorage.getItem(keyName);
}

export function signIn(key: string): void {
  sessionStorage.setItem(keyName, key.trim());
}

export function signOut(): void {
  sessionStorage.removeItem(keyName);
  window.dispatchEvent(new Event('soma:signed-out'));
}

/** An API error: `{error: {code, message, details?}}` with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  /** The route does not exist on this server (an older Soma, or a part not built yet). */
  get unavailable(): boolean {
    return this.status === 405 || this.status === 501 || (this.status === 404 && this.code === 'NOT_FOUND');
  }
}

export async function errorFrom(response: Response): Promise<ApiError> {
  let body: { error?: { code?: string; message?: string; details?: unknown } } | undefined;
  try {
    body = (await response.json()) as typeof body;
  } catch {
    body = undefined;
  }
  const code = body?.error?.code ?? (response.status === 404 ? 'NOT_FOUND' : `HTTP_${response.status}`);
  return new ApiError(response.status, code, body?.error?.message ?? response.statusText ?? `HTTP ${response.status}`, body?.error?.details);
}

export function authHeaders(): Record<string, string> {
  const key = apiKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** Calls the API as the signed-in user; a 401 signs out. */
export async function api<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: { accept: 'application/json', ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    ...(signal ? { signal } : {}),
  });
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401) signOut();
    throw error;
  }
  return (await response.json()) as T;
}

let openapi: Promise<Set<string>> | undefined;

/**
 * The operations this server documents in `/openapi.json` (e.g. `post /v1/turns/{turn_id}/feedback`):
 * lets a control that would write (feedback, approvals) know beforehand whether its API exists.
 */
export function serverOperations(): Promise<Set<string>> {
  openapi ??= fetch('/openapi.json')
    .then((r) => (r.ok ? (r.json() as Promise<{ paths?: Record<string, Record<string, unknown>> }>) : { paths: {} }))
    .then((spec) => new Set(Object.entries(spec.paths ?? {}).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`))))
    .catch(() => new Set<string>());
  return openapi;
}

// --- API shapes (SPEC §4, §7, §8, §13) -----------------------------------------------------------

export type Vector = Record<string, number>;

export interface Tool {
  name: string;
  kind?: 'builtin' | 'mcp';
  description?: string;
  config?: Record<string, unknown>;
  enabled?: boolean;
  timeout_ms?: number;
  requires_approval?: boolean;
}

export interface Capsule {
  id: string;
  name: string;
  version: number;
  system_prompt: string;
  model: string | null;
  allowed_models: string[];
  rlm_enabled: boolean;
  rlm_max_iterations: number;
  rlm_min_iterations: number;
  rlm_convergence_threshold: number;
  learning_config: Record<string, unknown>;
  tools: Tool[];
  tool_policy: { denied?: string[]; approval_required?: string[] };
  learned_weights: Vector;
  neuromodulator_state: Vector;
  learning_version: number;
  created_at: string;
  updated_at: string;
}

export interface Catalogue {
  tools: { name: string; description: string; input_schema: Record<string, unknown> }[];
  /** Registered MCP servers by name (absent on a server without the tenant boundary). */
  mcp_servers?: string[];
  models: { default: string; choices: string[]; providers: { prefix: string; available: boolean; reason?: string }[] };
}

export interface Conversation {
  id: string;
  capsule_id: string;
  title: string | null;
  status: string;
  message_count: number;
  created_at: string;
}

export interface Message {
  id: string;
  turn_id: string | null;
  role: 'user' | 'assistant' | 'system';
  content: string;
  latency_ms: number | null;
  metadata: { exit_reason?: string; iterations?: number; convergence_score?: number | null; tools_used?: string[]; partial?: boolean };
  created_at: string;
}

export interface ToolOutcome {
  callId: string;
  name: string;
  args: unknown;
  ok: boolean;
  outcome?: string;
  result?: unknown;
  error?: string;
  latency_ms?: number;
}

export interface Iteration {
  iteration_number: number;
  content: string;
  llm_output: unknown;
  weights_before: Vector;
  weights_after: Vector;
  weight_deltas: Vector;
  neuromodulators_after: Vector;
  model: string;
  confidence: number | null;
  latency_ms: number;
  tool_calls: { callId?: string; id?: string; name: string; args: unknown }[];
  tool_results: ToolOutcome[];
  prompt_tokens: number;
  completion_tokens: number;
  convergence_score: number;
  exit_reason: string;
  started_at: string;
  completed_at: string;
  metadata: {
    learning?: string;
    reward?: number;
    advantage?: number;
    stability?: number | null;
    tool_success_rate?: number;
    memories?: { key: string; content: string; score: number }[];
    context?: Record<string, number>;
    policy_decisions?: { call_id: string; tool: string; allow: boolean; engine: string; reason?: string }[];
    tokens_used?: number;
    degraded?: boolean;
  };
}

export interface Trace {
  turn_id: string;
  conversation_id: string;
  capsule_id: string;
  status: string;
  exit_reason: string | null;
  total_iterations: number;
  convergence_score: number | null;
  threshold?: number | null;
  seed: number;
  started_at: string;
  completed_at: string | null;
  error?: { code: string; message: string };
  iterations: Iteration[];
  messages?: Message[];
}

export interface LearningEntry {
  seq: number;
  kind: 'learn' | 'rollback' | 'reset' | string;
  source?: string;
  turn_id: string | null;
  iteration_number: number | null;
  weights_before: Vector;
  weights_after: Vector;
  neuromodulators_before: Vector;
  neuromodulators_after: Vector;
  reward: number | null;
  advantage: number | null;
  created_at: string;
}

export interface LearningPage {
  weights: Vector;
  neuromodulators: Vector;
  learning_version: number;
  history: LearningEntry[];
  next_cursor: string | null;
}

export interface ReplayReport {
  turn_id: string;
  identical: boolean;
  counterfactual: boolean;
  recorded: { iterations: number; exit_reason: string | null; answer_iteration: number | null };
  replayed: { iterations: number; exit_reason: string; answer_iteration: number | null; final_weights: Vector | null };
  differences: { iteration: number | 'turn'; field: string; recorded: unknown; replayed: unknown }[];
  interleaved: number[];
}

export interface SomaEvent {
  seq: number;
  event_id?: string;
  event_type: string;
  occurred_at?: string;
  turn_id?: string;
  capsule_id?: string;
  payload?: Record<string, unknown>;
  delivery: { status: string; attempts: number; published_at: string | null };
}

export const weightNames = ['alpha', 'beta', 'gamma', 'tau', 'lambda', 'mu', 'nu'] as const;
export const neuromodulatorNames = ['dopamine', 'serotonin', 'norepinephrine', 'acetylcholine'] as const;
export const weightSymbols: Record<string, string> = { alpha: 'α', beta: 'β', gamma: 'γ', tau: 'τ', lambda: 'λ', mu: 'μ', nu: 'ν' };
