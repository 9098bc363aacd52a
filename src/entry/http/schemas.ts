import { z } from '@hono/zod-openapi';

export const ErrorResponse = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) })
  .openapi('Error');

export const Uuid = z.string().uuid();
export const IdParam = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });

const Weights = z.record(z.string(), z.number()).openapi('Weights');
const Neuromodulators = z.record(z.string(), z.number()).openapi('Neuromodulators');

export const ToolInput = z
  .object({
    name: z.string().min(1).max(64).regex(/^[a-zA-Z0-9_.-]+$/, 'letters, digits, _ . - only'),
    kind: z.enum(['builtin', 'mcp']).optional(),
    description: z.string().max(2000).optional(),
    input_schema: z.record(z.string(), z.unknown()).optional(),
    config: z.record(z.string(), z.unknown()).optional(),
    enabled: z.boolean().optional(),
    timeout_ms: z.number().int().min(1).max(600_000).optional(),
    requires_approval: z.boolean().optional(),
  })
  .strict()
  .openapi('ToolInput');

const ToolPolicy = z
  .object({
    denied: z.array(z.string()).optional(),
    approval_required: z.array(z.string()).optional(),
    approved: z.array(z.string()).optional(),
    approval_timeout_s: z.number().int().min(1).max(30 * 86_400).optional().openapi({ description: 'Seconds a call waits for a person before it counts as denied (default 86400)' }),
  })
  .strict();

const modelSpec = z.string().regex(/^(local|openai|anthropic|openai-compatible|scripted):.+$/, 'a model spec such as openai:gpt-4o-mini');

const capsuleFields = {
  name: z.string().min(1).max(200),
  system_prompt: z.string().max(100_000),
  model: modelSpec.nullable().optional(),
  allowed_models: z.array(modelSpec).max(20).optional(),
  rlm_enabled: z.boolean().optional(),
  rlm_max_iterations: z.number().int().min(1).max(10).optional(),
  rlm_min_iterations: z.number().int().min(1).max(10).optional(),
  rlm_convergence_threshold: z.number().min(0).max(1).optional(),
  learning_config: z.record(z.string(), z.unknown()).optional(),
  tools: z.array(ToolInput).max(64).optional(),
  tool_policy: ToolPolicy.optional(),
};

export const CapsuleCreate = z.object(capsuleFields).strict().openapi('CapsuleCreate');
export const CapsulePatch = z
  .object({ ...capsuleFields, name: capsuleFields.name.optional(), system_prompt: capsuleFields.system_prompt.optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'the patch must change at least one field')
  .openapi('CapsulePatch');

export const Capsule = z
  .object({
    id: z.string(),
    tenant_id: z.string(),
    name: z.string(),
    version: z.number(),
    system_prompt: z.string(),
    model: z.string().nullable(),
    allowed_models: z.array(z.string()),
    rlm_enabled: z.boolean(),
    rlm_max_iterations: z.number(),
    rlm_min_iterations: z.number(),
    rlm_convergence_threshold: z.number(),
    learning_config: z.record(z.string(), z.unknown()),
    tools: z.array(z.record(z.string(), z.unknown())),
    tool_policy: z.record(z.string(), z.unknown()),
    learned_weights: Weights,
    neuromodulator_state: Neuromodulators,
    learning_version: z.number(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Capsule');

export const ConversationCreate = z.object({ capsule_id: Uuid, title: z.string().max(500).optional() }).strict().openapi('ConversationCreate');
export const Conversation = z
  .object({
    id: z.string(),
    tenant_id: z.string(),
    capsule_id: z.string(),
    user_id: z.string(),
    title: z.string().nullable(),
    status: z.string(),
    message_count: z.number(),
    created_at: z.string(),
  })
  .openapi('Conversation');

export const Message = z
  .object({
    id: z.string(),
    conversation_id: z.string(),
    turn_id: z.string().nullable(),
    role: z.string(),
    content: z.string(),
    token_count: z.number().nullable(),
    model: z.string().nullable(),
    latency_ms: z.number().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string(),
  })
  .openapi('Message');

export const MessageCreate = z.object({ content: z.string().min(1).max(100_000) }).strict().openapi('MessageCreate');

export const TurnCompleted = z
  .object({
    turn_id: z.string(),
    message_id: z.string(),
    content: z.string(),
    iterations: z.number(),
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
  .object({ call_id: z.string().min(1).max(200), approved: z.boolean(), reason: z.string().max(2_000).optional() })
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

export const TenantCreate = z.object({ name: z.string().min(1).max(200) }).strict().openapi('TenantCreate');
export const ApiKeyCreate = z.object({ user_id: z.string().min(1).max(200).optional() }).strict().optional();

export const Event = z.record(z.string(), z.unknown()).openapi('Event');
