import { z } from '@hono/zod-openapi';
import { Message } from './schemas.js';

/**
 * The response shapes of the trace and event routes (SPEC §7), as the use cases build them
 * (`app/trace.ts`). Open objects stay open where the content is the recorded data itself
 * (metadata, tool arguments and results, event payloads).
 */

const Vector = z.record(z.string(), z.number());
const Open = z.record(z.string(), z.unknown());

const ToolCall = z.object({ callId: z.string(), name: z.string(), args: z.unknown() }).openapi('RecordedToolCall');

const LlmOutput = z
  .object({
    text: z.string(),
    toolCalls: z.array(ToolCall),
    finishReason: z.string(),
    logprobs: z.object({ count: z.number(), sum: z.number() }).nullable(),
    verbalConfidence: z.number().nullable(),
    final: z.boolean(),
    usage: z.object({ promptTokens: z.number(), completionTokens: z.number() }),
    model: z.string(),
  })
  .passthrough()
  .openapi('RecordedLlmOutput');

const ToolResult = z
  .object({
    callId: z.string(),
    name: z.string(),
    args: z.unknown(),
    ok: z.boolean(),
    result: z.unknown().optional(),
    error: z.string().optional(),
    outcome: z.string(),
    latency_ms: z.number(),
    policy: z.unknown().optional(),
  })
  .passthrough()
  .openapi('RecordedToolResult');

export const Iteration = z
  .object({
    id: z.string(),
    turn_id: z.string(),
    conversation_id: z.string(),
    iteration_number: z.number().int(),
    content: z.string(),
    llm_output: LlmOutput,
    weights_before: Vector,
    weights_after: Vector,
    weight_deltas: Vector,
    neuromodulators_before: Vector,
    neuromodulators_after: Vector,
    model: z.string(),
    confidence: z.number().nullable(),
    latency_ms: z.number(),
    tool_calls: z.array(ToolCall),
    tool_results: z.array(ToolResult),
    prompt_tokens: z.number().int(),
    completion_tokens: z.number().int(),
    convergence_score: z.number().nullable(),
    exit_reason: z.string().nullable(),
    metadata: z.unknown(),
    started_at: z.string(),
    completed_at: z.string(),
    created_at: z.string(),
  })
  .openapi('Iteration');

export const TurnTrace = z
  .object({
    turn_id: z.string(),
    conversation_id: z.string(),
    capsule_id: z.string(),
    status: z.string(),
    exit_reason: z.string().nullable(),
    total_iterations: z.number().int(),
    convergence_score: z.number().nullable(),
    threshold: z.number().nullable(),
    seed: z.number(),
    weights_start: Vector,
    neuromodulators_start: Vector,
    started_at: z.string(),
    completed_at: z.string().nullable(),
    error: z.object({ code: z.string(), message: z.string(), iteration: z.number().int().optional() }).optional(),
    iterations: z.array(Iteration),
    messages: z.array(Message).optional(),
  })
  .openapi('TurnTrace');

export const ConversationTrace = z
  .object({
    conversation_id: z.string(),
    total_turns: z.number().int(),
    traces: z.array(
      z.object({
        turn_id: z.string(),
        status: z.string(),
        total_iterations: z.number().int(),
        convergence_score: z.number().nullable(),
        exit_reason: z.string().nullable(),
        created_at: z.string(),
      }),
    ),
    next_cursor: z.string().nullable(),
  })
  .openapi('ConversationTrace');

/** One event of the log: the envelope (SPEC §7) plus its `seq` and delivery status. */
export const Event = z
  .object({
    seq: z.number().int(),
    delivery: z.object({ status: z.enum(['pending', 'published', 'dead']), attempts: z.number().int(), published_at: z.string().nullable() }),
    event_id: z.string(),
    event_type: z.string(),
    schema_version: z.number().int(),
    occurred_at: z.string(),
    tenant_id: z.string(),
    turn_id: z.string().optional(),
    capsule_id: z.string().optional(),
    payload: Open,
  })
  .openapi('Event');

export const EventPage = z.object({ events: z.array(Event), next_after: z.number().int() }).openapi('EventPage');

/** One event of a `text/event-stream` response, as a client parses it (`data` is JSON text). */
export const SseEvent = z
  .object({ event: z.string(), data: z.string(), id: z.string().optional() })
  .openapi('SseEvent', { description: 'One server-sent event: its name, its JSON payload as text, and its id (per turn, from 1).' });
