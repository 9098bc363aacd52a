import { z } from '@hono/zod-openapi';
import { learningConfigInput } from '../../app/capsules/index.js';
import { CLEAN_CHAR, DECLARED_CLEAN, int, JS_WHITESPACE, JsonObject, JsonValue, record, text, Uuid } from './schema-kit.js';

export { Uuid } from './schema-kit.js';

export const ErrorResponse = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) })
  .openapi('Error');

export const IdParam = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });

const Weights = record(z.number()).openapi('Weights');
const Neuromodulators = record(z.number()).openapi('Neuromodulators');

const toolName = z.string().min(1).max(64).regex(/^[a-zA-Z0-9_.-]+$/, 'letters, digits, _ . - only');
const toolFields = {
  description: text(2000).optional(),
  input_schema: JsonObject.optional(),
  enabled: z.boolean().optional(),
  timeout_ms: int(1, 600_000).optional(),
  requires_approval: z.boolean().optional(),
};

/**
 * A tool of a capsule: a built-in one by name (the names this server ships), or a tool of an MCP
 * server. Each name at most once per capsule (422 `INVALID_COMBINATION` otherwise).
 */
function toolInput(builtinTools: readonly string[], mcpServers: readonly string[]) {
  const builtin = z
    .object({ name: z.enum(builtinTools as [string, ...string[]]), kind: z.literal('builtin').optional(), config: JsonObject.optional(), ...toolFields })
    .strict();
  // `config.server` names a server of SOMA_MCP_SERVERS (declared as their names). Anything else gets past
  // the schema so that the admission rules refuse it with 400 MCP_SERVER_UNKNOWN (never spawned, never echoed).
  // No server registered: no MCP tool is accepted, so the declared server matches nothing (`not: {}`).
  const server = z.custom<unknown>((value) => value !== undefined, 'config.server names a registered MCP server').openapi(mcpServers.length > 0 ? { type: 'string', enum: [...mcpServers] } : ({ type: 'string', not: {}, description: 'No MCP servers are registered on this server (SOMA_MCP_SERVERS)' } as never));
  const mcp = z
    .object({ name: toolName, kind: z.literal('mcp'), config: z.object({ server, tool: text(200, 1).optional() }).catchall(JsonValue), ...toolFields })
    .strict();
  return z.union([builtin, mcp]).openapi('ToolInput');
}

const ToolPolicy = z
  .object({
    denied: z.array(text(200)).max(200).optional(),
    approval_required: z.array(text(200)).max(200).optional(),
    approved: z.array(text(200)).max(200).optional(),
    approval_timeout_s: int(1, 30 * 86_400).optional().openapi({ description: 'Seconds a call waits for a person before it counts as denied (default 86400)' }),
  })
  .strict()
  .openapi('ToolPolicy');

const modelSpec = z
  .string()
  .max(500)
  .regex(new RegExp(`^(local|openai|anthropic|openai-compatible|scripted):${CLEAN_CHAR}+$`), 'a model spec such as openai:gpt-4o-mini')
  // Declared: the names the admission rules accept (core/admission). Other names get past the schema so
  // that admission refuses them with 400 MODEL_NOT_ALLOWED (a path is never quoted back).
  .openapi({ pattern: '^((openai|anthropic|openai-compatible):[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}|local:[A-Za-z0-9][A-Za-z0-9._-]{0,127}|scripted:[^\\u0000]+)$' });

/** The capsule bodies of this server (its built-in tools are part of the schema). */
export function capsuleSchemas(builtinTools: readonly string[], mcpServers: readonly string[] = []) {
  const fields = {
    name: text(200, 1),
    system_prompt: text(100_000),
    model: modelSpec.nullable().optional(),
    allowed_models: z.array(modelSpec).max(20).optional(),
    rlm_enabled: z.boolean().optional(),
    rlm_max_iterations: int(1, 10).optional(),
    rlm_min_iterations: int(1, 10).optional(),
    rlm_convergence_threshold: z.number().min(0).max(1).optional(),
    learning_config: learningConfigInput.optional().openapi({ description: 'Learning constants and turn settings (temperature, message_overflow); cross-field rules (min ≤ default ≤ max) answer 422.' }),
    tools: z.array(toolInput(builtinTools, mcpServers)).max(64).optional(),
    tool_policy: ToolPolicy.optional(),
  };
  return {
    CapsuleCreate: z.object(fields).strict().openapi('CapsuleCreate'),
    CapsulePatch: z
      .object({ ...fields, name: fields.name.optional(), system_prompt: fields.system_prompt.optional() })
      .strict()
      .refine((v) => Object.keys(v).length > 0, 'the patch must change at least one field')
      .openapi('CapsulePatch', { minProperties: 1, description: 'Any part of a capsule (at least one field).' } as never),
  };
}

const Tool = z
  .object({
    name: z.string(),
    kind: z.enum(['builtin', 'mcp']),
    description: z.string(),
    config: z.record(z.string(), z.unknown()),
    enabled: z.boolean(),
    timeout_ms: z.number().int(),
    requires_approval: z.boolean(),
    input_schema: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi('Tool');

export const Capsule = z
  .object({
    id: z.string(),
    tenant_id: z.string(),
    name: z.string(),
    version: z.number().int(),
    system_prompt: z.string(),
    model: z.string().nullable(),
    allowed_models: z.array(z.string()),
    rlm_enabled: z.boolean(),
    rlm_max_iterations: z.number().int(),
    rlm_min_iterations: z.number().int(),
    rlm_convergence_threshold: z.number(),
    learning_config: z.record(z.string(), z.unknown()),
    tools: z.array(Tool),
    tool_policy: z.object({ denied: z.array(z.string()).optional(), approval_required: z.array(z.string()).optional(), approved: z.array(z.string()).optional() }),
    learned_weights: Weights,
    neuromodulator_state: Neuromodulators,
    learning_version: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Capsule');

export const ConversationCreate = z.object({ capsule_id: Uuid, title: text(500).optional() }).strict().openapi('ConversationCreate');
export const Conversation = z
  .object({
    id: z.string(),
    tenant_id: z.string(),
    capsule_id: z.string(),
    user_id: z.string(),
    title: z.string().nullable(),
    status: z.string(),
    message_count: z.number().int(),
    created_at: z.string(),
  })
  .openapi('Conversation');

export const Message = z
  .object({
    id: z.string(),
    conversation_id: z.string(),
    turn_id: z.string().nullable(),
    role: z.enum(['user', 'assistant', 'system']),
    content: z.string(),
    token_count: z.number().int().nullable(),
    model: z.string().nullable(),
    latency_ms: z.number().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string(),
  })
  .openapi('Message');

const messageContent = new RegExp(`^(?=[\\s\\S]*[^${JS_WHITESPACE}])${CLEAN_CHAR}*$`);

export const MessageCreate = z
  .object({
    content: z
      .string()
      .min(1)
      .max(100_000)
      .refine((value) => messageContent.test(value), 'must not be blank, nor contain NUL or unpaired surrogates')
      // Declared as two bounded checks (see DECLARED_CLEAN): some character is not whitespace, none is NUL.
      .openapi({ pattern: `[^${JS_WHITESPACE}]`, not: DECLARED_CLEAN.not }),
  })
  .strict()
  .openapi('MessageCreate', { description: 'A message longer than the capsule lets into the context answers 413 unless its learning_config.message_overflow is "truncate".' });

export const TurnCompleted = z
  .object({
    turn_id: z.string(),
    message_id: z.string(),
    content: z.string(),
    iterations: z.number().int(),
    exit_reason: z.string(),
    convergence_score: z.number().nullable(),
    tools_used: z.array(z.string()),
  })
  .openapi('TurnCompleted');

export const TurnAccepted = z.object({ turn_id: z.string(), status: z.literal('running') }).openapi('TurnAccepted');

const PendingCall = z.object({ iteration: z.number().int(), call_id: z.string(), name: z.string(), args: z.unknown(), expires_at: z.string() });
export const TurnPaused = z.object({ turn_id: z.string(), status: z.literal('awaiting_approval'), approvals: z.array(PendingCall) }).openapi('TurnPaused');

export const Approval = z
  .object({
    id: z.string(),
    turn_id: z.string(),
    conversation_id: z.string(),
    capsule_id: z.string(),
    iteration: z.number().int(),
    call_id: z.string(),
    name: z.string(),
    args: z.unknown(),
    status: z.enum(['pending', 'approved', 'denied', 'expired']),
    reason: z.string().nullable(),
    decided_by: z.string().nullable(),
    requested_at: z.string(),
    expires_at: z.string(),
    decided_at: z.string().nullable(),
    outcome: z.object({ ok: z.boolean(), outcome: z.string(), result: z.unknown().optional(), error: z.string().optional() }).optional(),
  })
  .openapi('Approval');

export const ApprovalDecisionBody = z
  .object({ call_id: text(200, 1), approved: z.boolean(), reason: text(2_000).optional() })
  .strict()
  .openapi('ApprovalDecision');

export const TurnStatus = z
  .object({
    turn_id: z.string(),
    conversation_id: z.string(),
    capsule_id: z.string(),
    status: z.enum(['running', 'awaiting_approval', 'completed', 'failed', 'interrupted']),
    exit_reason: z.string().nullable(),
    iterations: z.number().int(),
    convergence_score: z.number().nullable(),
    started_at: z.string(),
    completed_at: z.string().nullable(),
    resumes: z.number().int(),
    error: z.unknown().optional(),
    last_event_id: z.number().int(),
    pending_approvals: z.array(Approval),
    answer: z.object({ message_id: z.string(), content: z.string(), partial: z.boolean() }).nullable(),
  })
  .openapi('TurnStatus');

export const TenantCreate = z.object({ name: text(200, 1) }).strict().openapi('TenantCreate');
export const ApiKeyCreate = z
  .object({ user_id: text(200, 1).optional(), admin: z.boolean().optional().openapi({ description: 'Make it an admin key of the tenant (default false)' }) })
  .strict()
  .openapi('ApiKeyCreate');
