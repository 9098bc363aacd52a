import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { BrainScope } from '../../ports/brain.js';
import type { ToolCall } from '../../ports/chat-model.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import type {
  PolicyDecision, PolicyEngine, Tool, ToolContext, ToolOutcome, ToolPolicy, ToolRunner, ToolSet,
} from '../../ports/tools.js';
import { CircuitBreaker, capResultSize } from '../../core/tools/index.js';
import { SomaError } from '../../shared/errors.js';
import { canonicalJson } from '../../shared/hash.js';
import type { JsonSchema, JsonValue } from '../../shared/json.js';
import { createEgressPolicy, type EgressPolicy } from '../egress/index.js';
import { createBuiltinTool, type MemoryRecall } from './builtin/index.js';
import { createConcurrencyLimiter } from './concurrency-limiter.js';
import { createMcpServerRegistry, type McpServerRegistry } from './mcp/index.js';

/**
 * Where tool metrics go (wired to prom-client by the composition root). The `tool` label is bounded:
 * a built-in tool's name, `mcp` for any MCP tool, or `(unknown)` — never a name a tenant chose.
 */
export interface ToolMetricsSink {
  /** `tool_execution_latency_seconds{tool}` — calls that were executed. */
  observeToolLatency(tool: string, seconds: number): void;
  /** `tool_calls_total{tool,outcome}` — every call. */
  countToolCall(tool: string, outcome: ToolOutcome['outcome']): void;
  /** `policy_decisions_total{decision}`. */
  countPolicyDecision(decision: 'allow' | 'deny'): void;
}

export interface ToolRunnerOptions {
  policy: PolicyEngine;
  /** Drives the circuit breakers (and `current_time`). */
  clock?: Clock;
  /** Memory recall for `memory_search`, bound to a capsule. */
  recallFor: (scope: BrainScope) => MemoryRecall;
  metrics?: ToolMetricsSink;
  /** Tool calls running at once per ToolSet (turn). */
  maxConcurrency?: number;
  /** Timeout of a capability without `timeout_ms`. */
  defaultTimeoutMs?: number;
  /** Largest tool result (serialised JSON) handed back; larger ones are truncated with a marker. */
  maxResultBytes?: number;
  breaker?: { failureThreshold?: number; resetAfterMs?: number };
  /** Where `http_fetch` may connect (default: public addresses only, no operator exceptions). */
  egress?: EgressPolicy;
  /** The operator's MCP servers (default: none, so every MCP tool is refused). */
  mcpServers?: McpServerRegistry;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv | Ajv2019 | Ajv2020) => void;
/** Label for calls to tools the capsule does not have (keeps metric cardinality bounded). */
const unknownToolLabel = '(unknown)';

/** The metric label of a tool: its built-in name, or `mcp` (MCP tools are named by tenants). */
export function toolMetricLabel(tool: Tool | undefined): string {
  if (!tool) return unknownToolLabel;
  return tool.capability.kind === 'mcp' ? 'mcp' : tool.definition.name;
}

/**
 * Builds a capsule's tools for one turn and runs calls through validation, policy, circuit breaker,
 * timeout and the concurrency limit. Breakers live in the runner, so they persist across turns of
 * the process (keyed by tenant, capsule and tool).
 */
export function createToolRunner({
  policy,
  clock = systemClock,
  recallFor,
  metrics,
  maxConcurrency = 4,
  defaultTimeoutMs = 60_000,
  maxResultBytes = 16 * 1024,
  breaker: { failureThreshold = 5, resetAfterMs = 30_000 } = {},
  egress = createEgressPolicy(),
  mcpServers = createMcpServerRegistry({ fetch: egress.fetch }),
}: ToolRunnerOptions): ToolRunner {
  const breakers = new Map<string, CircuitBreaker>();
  const fetch = egress.fetch;
  const validators = createValidatorFactory();

  return {
    async load({ tenantId, capsuleId, capabilities, toolPolicy }) {
      const enabled = capabilities.filter((capability) => capability.enabled !== false);
      const seen = new Set<string>();
      for (const { name } of enabled) {
        if (seen.has(name)) throw new SomaError('CONFIG_INVALID', `tool "${name}" is configured twice on capsule ${capsuleId}`);
        seen.add(name);
      }
      const recall = recallFor({ tenantId, capsuleId });
      const builtins = enabled
        .filter((capability) => (capability.kind ?? 'builtin') === 'builtin')
        .map((capability) => createBuiltinTool({ capability, clock, recall, fetch }));
      const mcpCapabilities = enabled.filter((capability) => capability.kind === 'mcp');
      // Only registered servers are reached, over connections shared across turns (the SDK loads on
      // the first one); an inline or unknown server gives a tool that fails, with nothing spawned.
      const mcpTools = mcpCapabilities.length === 0 ? [] : await mcpServers.tools(mcpCapabilities);

      const tools = new Map<string, { tool: Tool; validate: Validate }>();
      for (const tool of [...builtins, ...mcpTools]) tools.set(tool.definition.name, { tool, validate: validators(tool.definition.inputSchema) });
      const effectivePolicy: ToolPolicy = {
        ...toolPolicy,
        approval_required: [...new Set([...(toolPolicy.approval_required ?? []), ...enabled.filter((c) => c.requires_approval).map((c) => c.name)])],
      };
      const limiter = createConcurrencyLimiter({ max: maxConcurrency });

      const breakerFor = (tool: string) => {
        const key = JSON.stringify([tenantId, capsuleId, tool]);
        let breaker = breakers.get(key);
        if (!breaker) breakers.set(key, (breaker = new CircuitBreaker({ clock, failureThreshold, resetAfterMs })));
        return { breaker, forgetIfPristine: () => void (breaker.pristine && breakers.delete(key)) };
      };

      const runOne = async (call: ToolCall, context: ToolContext): Promise<ToolOutcome> => {
        const started = performance.now();
        const finish = (outcome: Omit<ToolOutcome, 'callId' | 'name' | 'args' | 'latency_ms'>, executed = false): ToolOutcome => {
          const latency = performance.now() - started;
          const label = toolMetricLabel(tools.get(call.name)?.tool);
          metrics?.countToolCall(label, outcome.outcome);
          if (executed) metrics?.observeToolLatency(label, latency / 1000);
          return { callId: call.callId, name: call.name, args: call.args, ...outcome, latency_ms: Math.round(latency) };
        };

        const entry = tools.get(call.name);
        if (!entry) {
          return finish({ ok: false, outcome: 'unknown_tool', error: `unknown tool "${call.name}"; available tools: ${[...tools.keys()].join(', ') || 'none'}` });
        }
        const invalid = entry.validate(call.args);
        if (invalid !== null) return finish({ ok: false, outcome: 'invalid_args', error: `invalid arguments for ${call.name}: ${invalid}` });

        // A tool that needs a person's approval: the policy is asked as if the call were approved
        // (approval never overrides a denial); allowed but not approved yet, the call waits.
        const needsApproval = requiresApproval(effectivePolicy, call.name);
        const approvedBy = context.approvedCalls?.get(call.callId);
        const decision = await decide(policy, {
          action: 'tool.execute',
          tenant: tenantId,
          capsule: { id: capsuleId, tools: [...tools.keys()], tool_policy: effectivePolicy },
          user: context.userId,
          tool: call.name,
          args: call.args,
          iteration: context.iteration,
          ...(needsApproval ? { approval: { approved: true, ...(approvedBy ? { by: approvedBy } : {}) } } : {}),
        });
        metrics?.countPolicyDecision(decision.allow ? 'allow' : 'deny');
        if (!decision.allow) {
          return finish({ ok: false, outcome: 'denied', error: `denied by policy soma.tools: ${decision.reason ?? 'not allowed'}`, policy: decision });
        }
        if (needsApproval && approvedBy === undefined) {
          return finish({ ok: false, outcome: 'awaiting_approval', error: `${call.name} needs a person's approval`, policy: decision });
        }

        const { breaker, forgetIfPristine } = breakerFor(call.name);
        if (!breaker.tryAcquire()) {
          return finish({
            ok: false,
            outcome: 'circuit_open',
            error: `circuit open for ${call.name} after ${breaker.consecutiveFailures} consecutive failures; next try in ${Math.ceil(breaker.retryAfterMs / 1000)} s`,
            policy: decision,
          });
        }

        const timeoutMs = entry.tool.capability.timeout_ms ?? defaultTimeoutMs;
        const result = await executeWithTimeout(entry.tool, call.args, context, timeoutMs);
        if (result.kind === 'ok') {
          breaker.recordSuccess();
          forgetIfPristine();
          return finish({ ok: true, outcome: 'ok', result: capResultSize(result.value, maxResultBytes).value, policy: decision }, true);
        }
        if (result.kind === 'cancelled') {
          breaker.release();
          return finish({ ok: false, outcome: 'error', error: `${call.name} cancelled: the turn was aborted`, policy: decision }, true);
        }
        breaker.recordFailure();
        if (result.kind === 'timeout') {
          return finish({ ok: false, outcome: 'timeout', error: `${call.name} timed out after ${timeoutMs} ms`, policy: decision }, true);
        }
        return finish({ ok: false, outcome: 'error', error: `${call.name} failed: ${result.message}`, policy: decision }, true);
      };

      return {
        definitions: [...tools.values()].map(({ tool }) => tool.definition),
        async run(calls, context, onResult) {
          return Promise.all(
            calls.map(async (call) => {
              const outcome = await limiter.run(() =>
                runOne(call, context).catch((error: unknown): ToolOutcome => ({
                  callId: call.callId, name: call.name, args: call.args, ok: false, outcome: 'error',
                  error: `${call.name} failed: ${error instanceof Error ? error.message : String(error)}`, latency_ms: 0,
                })),
              );
              try {
                onResult?.(outcome);
              } catch {
                // a listener's failure must not lose the outcome
              }
              return outcome;
            }),
          );
        },
        // MCP connections belong to the registry (shared across turns, closed on shutdown).
        close: async () => undefined,
      } satisfies ToolSet;
    },
  };
}

/** Whether calls of `tool` wait for a person (capability `requires_approval` or `tool_policy.approval_required`, unless `approved` by the operator). */
function requiresApproval(toolPolicy: ToolPolicy, tool: string): boolean {
  return (toolPolicy.approval_required ?? []).includes(tool) && !(toolPolicy.approved ?? []).includes(tool);
}

async function decide(policy: PolicyEngine, input: Parameters<PolicyEngine['decide']>[0]): Promise<PolicyDecision> {
  try {
    return await policy.decide(input);
  } catch (error) {
    return { allow: false, engine: policy.name, reason: `policy engine unavailable: ${(error as Error).message}` };
  }
}

type Execution = { kind: 'ok'; value: JsonValue } | { kind: 'error'; message: string } | { kind: 'timeout' } | { kind: 'cancelled' };

/** Runs the tool with its own AbortSignal, aborted on timeout or when the turn is aborted. */
async function executeWithTimeout(tool: Tool, args: unknown, context: ToolContext, timeoutMs: number): Promise<Execution> {
  if (context.signal.aborted) return { kind: 'cancelled' };
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onTurnAbort: (() => void) | undefined;
  const stopped = new Promise<Execution>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new SomaError('TOOL_TIMEOUT', `timed out after ${timeoutMs} ms`, { retryable: true }));
      resolve({ kind: 'timeout' });
    }, timeoutMs);
    onTurnAbort = () => {
      controller.abort(context.signal.reason);
      resolve({ kind: 'cancelled' });
    };
    context.signal.addEventListener('abort', onTurnAbort, { once: true });
  });
  const executed = (async (): Promise<Execution> => {
    try {
      const value = await tool.execute(args, { ...context, signal: controller.signal });
      return { kind: 'ok', value: JSON.parse(JSON.stringify(value ?? null)) as JsonValue };
    } catch (error) {
      return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
    }
  })();
  try {
    return await Promise.race([executed, stopped]);
  } finally {
    clearTimeout(timer);
    if (onTurnAbort) context.signal.removeEventListener('abort', onTurnAbort);
  }
}

/** Returns null when valid, else the validation message. */
type Validate = (args: unknown) => string | null;

/** Compiles tool input schemas with the Ajv flavour their `$schema` asks for (default 2020-12). */
function createValidatorFactory(): (schema: JsonSchema) => Validate {
  const make = <T extends Ajv | Ajv2019 | Ajv2020>(ajv: T) => {
    addFormats(ajv);
    return ajv;
  };
  const options = { strict: false, allErrors: false, validateSchema: true } as const;
  const instances = { draft7: make(new Ajv(options)), draft2019: make(new Ajv2019(options)), draft2020: make(new Ajv2020(options)) };
  // Loaded once per turn: compile each distinct schema once (ajv would otherwise cache every copy).
  const compiled = new Map<string, Validate>();
  return (schema) => {
    const key = canonicalJson(schema);
    const cached = compiled.get(key);
    if (cached) return cached;
    const dialect = typeof schema.$schema === 'string' ? schema.$schema : '';
    const ajv = /draft-0[4-7]/.test(dialect) ? instances.draft7 : dialect.includes('2019-09') ? instances.draft2019 : instances.draft2020;
    // A top-level $id would make ajv refuse a second, different schema of two servers using the same id.
    const { $id: _id, ...anonymous } = schema;
    let validateArgs: Validate;
    try {
      const validate: ValidateFunction = ajv.compile(anonymous);
      validateArgs = (args) => (validate(args) ? null : ajv.errorsText(validate.errors as ErrorObject[], { dataVar: 'args' }));
    } catch (error) {
      const message = `the tool's input schema is invalid (${(error as Error).message})`;
      validateArgs = () => message;
    }
    compiled.set(key, validateArgs);
    return validateArgs;
  };
}
