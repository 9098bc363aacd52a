import { SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { LlmOutput } from '../../ports/chat-model.js';
import type { ToolOutcome } from '../../ports/tools.js';

/**
 * Spans with the OpenTelemetry GenAI semantic conventions (`gen_ai.*`). The API is a no-op unless the
 * composition root registered a provider (`OTEL_EXPORTER_OTLP_ENDPOINT`).
 */
const tracer = trace.getTracer('soma');

/** `invoke_agent <capsule>`: one turn. */
export function traceTurn<T>(attributes: { capsuleId: string; capsuleName: string; conversationId: string; turnId: string; model: string }, run: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(
    `invoke_agent ${attributes.capsuleName}`,
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.id': attributes.capsuleId,
        'gen_ai.agent.name': attributes.capsuleName,
        'gen_ai.conversation.id': attributes.conversationId,
        'gen_ai.request.model': attributes.model,
        'soma.turn.id': attributes.turnId,
      },
    },
    async (span) => {
      try {
        return await run(span);
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** `chat <model>`: one model call of an iteration. */
export function traceModelCall(request: { model: string; iteration: number; seed?: number; temperature?: number; maxOutputTokens?: number }, call: () => Promise<LlmOutput>): Promise<LlmOutput> {
  const provider = request.model.split(':')[0] ?? 'unknown';
  const attributes: Attributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': provider,
    'gen_ai.request.model': request.model,
    'soma.iteration': request.iteration,
  };
  if (request.seed !== undefined) attributes['gen_ai.request.seed'] = request.seed;
  if (request.temperature !== undefined) attributes['gen_ai.request.temperature'] = request.temperature;
  if (request.maxOutputTokens !== undefined) attributes['gen_ai.request.max_tokens'] = request.maxOutputTokens;
  return tracer.startActiveSpan(`chat ${request.model}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      const output = await call();
      span.setAttributes({
        'gen_ai.response.model': output.model,
        'gen_ai.response.finish_reasons': [output.finishReason],
        'gen_ai.usage.input_tokens': output.usage.promptTokens,
        'gen_ai.usage.output_tokens': output.usage.completionTokens,
      });
      return output;
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** `execute_tool <name>`: recorded when the outcome is known (`end`, ms since the epoch), back-dated by its latency. */
export function traceToolOutcome(outcome: ToolOutcome, iteration: number, end: number): void {
  const span = tracer.startSpan(`execute_tool ${outcome.name}`, {
    kind: SpanKind.INTERNAL,
    startTime: end - outcome.latency_ms,
    attributes: {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': outcome.name,
      'gen_ai.tool.call.id': outcome.callId,
      'soma.tool.outcome': outcome.outcome,
      'soma.iteration': iteration,
      ...(outcome.policy ? { 'soma.policy.allow': outcome.policy.allow, 'soma.policy.engine': outcome.policy.engine } : {}),
    },
  });
  if (!outcome.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error ?? outcome.outcome });
  span.end(end);
}
