import type { JsonSchema, JsonValue } from '../shared/json.js';
import type { ToolCall, ToolDefinition } from './chat-model.js';

/** A capability row as a capsule configures it (SPEC §2 `capabilities`). */
export interface CapabilityConfig {
  name: string;
  description?: string;
  /** JSON Schema of the arguments; built-in tools bring their own. */
  input_schema?: JsonSchema;
  kind: 'builtin' | 'mcp';
  /**
   * Tool-specific configuration. `http_fetch`: `{allowed_hosts: string[], max_bytes?, timeout_ms?}`.
   * MCP: `{server: "<name in SOMA_MCP_SERVERS>", tool?: string}` (`tool` = the name on the MCP server
   * when it differs from `name`); an inline server definition is refused (SPEC §13.1).
   */
  config?: Record<string, unknown>;
  enabled: boolean;
  /** Per-call timeout; default 60 000. */
  timeout_ms?: number;
  requires_approval?: boolean;
}

/** A capsule's tool policy (SPEC §8). */
export interface ToolPolicy {
  denied?: string[];
  approval_required?: string[];
  /** Tools an operator approved (lets `approval_required` tools run without asking). */
  approved?: string[];
  /** Seconds a call waits for a person's decision before it counts as denied (default 86 400). */
  approval_timeout_s?: number;
}

/** The policy input of SPEC §6. */
export interface PolicyInput {
  action: 'tool.execute';
  tenant: string;
  capsule: { id: string; tools: string[]; tool_policy: ToolPolicy };
  user: string;
  tool: string;
  args: unknown;
  iteration: number;
  /**
   * Present for a tool that requires approval: `approved` is true when a person approved this call
   * (or, before asking, to learn whether the policy would allow it once approved). Approval never
   * overrides a denial: the policy still decides.
   */
  approval?: { approved: boolean; by?: string };
}

export interface PolicyDecision {
  allow: boolean;
  /** Which engine decided: `opa-wasm` or `opa-http`. */
  engine: string;
  /** Why a denial happened, e.g. `tool denied by soma.tools policy` or `policy engine unreachable`. */
  reason?: string;
}

/**
 * Evaluates `data.soma.tools.allow` for one tool execution. Default deny; fail closed: an engine
 * that cannot answer returns `{allow: false}` — it never throws.
 */
export interface PolicyEngine {
  readonly name: string;
  decide(input: PolicyInput): Promise<PolicyDecision>;
}

/** Context every tool execution gets. */
export interface ToolContext {
  tenantId: string;
  capsuleId: string;
  userId: string;
  turnId: string;
  iteration: number;
  signal: AbortSignal;
  /**
   * Calls (by call id) a person approved, with who did. A call of a tool that requires approval and
   * is not listed here is not run: its outcome is `awaiting_approval` (when the policy would allow it).
   */
  approvedCalls?: ReadonlyMap<string, string>;
}

/** A tool ready to execute. `execute` throws on failure; timeouts and breakers wrap it outside. */
export interface Tool {
  definition: ToolDefinition;
  capability: CapabilityConfig;
  execute(args: unknown, context: ToolContext): Promise<JsonValue>;
}

/** The outcome of one tool call, as recorded on the iteration and streamed as `tool.result`. */
export interface ToolOutcome {
  callId: string;
  name: string;
  args: unknown;
  ok: boolean;
  result?: JsonValue;
  /** Error message; for a denial it names the policy. */
  error?: string;
  /**
   * `ok`, `error`, `denied`, `timeout`, `circuit_open`, `invalid_args`, `unknown_tool`, or
   * `awaiting_approval`: not run yet, the tool requires a person's approval (SPEC §13.4).
   */
  outcome: 'ok' | 'error' | 'denied' | 'timeout' | 'circuit_open' | 'invalid_args' | 'unknown_tool' | 'awaiting_approval';
  latency_ms: number;
  policy?: PolicyDecision;
}

/** The tools of one capsule for one turn (registry loaded once per turn). */
export interface ToolSet {
  definitions: ToolDefinition[];
  /** Runs the calls of one iteration: validation, policy, breaker, timeout, ≤ 4 at once. */
  run(calls: ToolCall[], context: ToolContext, onResult?: (outcome: ToolOutcome) => void): Promise<ToolOutcome[]>;
  close(): Promise<void>;
}

/** Builds a capsule's ToolSet for a turn. */
export interface ToolRunner {
  load(options: {
    tenantId: string;
    capsuleId: string;
    capabilities: CapabilityConfig[];
    toolPolicy: ToolPolicy;
  }): Promise<ToolSet>;
}
