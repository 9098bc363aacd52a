import type { Repositories, StreamEventBatch } from '../../ports/store.js';
import type { AppContext } from '../context.js';
import { recordEvent } from '../events.js';
import { countTokens } from '../quotas.js';
import type { IterationRecord } from '../turn/index.js';

/** Which turn an iteration belongs to. */
export interface IterationOwner {
  turnId: string;
  conversationId: string;
  tenantId: string;
  capsuleId: string;
}

/**
 * Stores an iteration, its tokens in the tenant's daily usage, its `chat.iteration_completed` event and the turn's SSE events since its last
 * write atomically — with `extra` writes of the same moment (a pause) — inside `transaction` (the
 * in-process brain's learning step, so the iteration commits with its learning) when given, else in a
 * transaction of its own.
 */
export async function saveIteration(
  ctx: Pick<AppContext, 'store' | 'ids' | 'clock'>,
  owner: IterationOwner,
  record: IterationRecord & { streamEvents?: StreamEventBatch },
  transaction?: unknown,
  extra?: (tx: Repositories) => Promise<void>,
): Promise<void> {
  const write = async (tx: Repositories) => {
    await writeIteration(ctx, tx, owner, record);
    await extra?.(tx);
  };
  if (transaction !== undefined) await write(ctx.store.joinTransaction(transaction));
  else await ctx.store.transaction(write);
}

async function writeIteration(ctx: Pick<AppContext, 'ids' | 'clock'>, tx: Repositories, { turnId, conversationId, tenantId, capsuleId }: IterationOwner, record: IterationRecord & { streamEvents?: StreamEventBatch }) {
  await tx.iterations.insert({
    id: ctx.ids.uuid(),
    turnId,
    conversationId,
    iterationNumber: record.iteration,
    content: record.content,
    llmOutput: record.llmOutput,
    weightsBefore: record.weightsBefore,
    weightsAfter: record.weightsAfter,
    weightDeltas: record.weightDeltas,
    neuromodulatorsBefore: record.neuromodulatorsBefore,
    neuromodulatorsAfter: record.neuromodulatorsAfter,
    model: record.model,
    confidence: record.confidence,
    latencyMs: record.latencyMs,
    toolCalls: record.toolCalls,
    toolResults: record.toolResults,
    promptTokens: record.promptTokens,
    completionTokens: record.completionTokens,
    convergenceScore: record.convergenceScore,
    exitReason: record.exitReason,
    metadata: record.metadata,
    startedAt: record.startedAt,
    completedAt: record.completedAt,
    ...(record.streamEvents ? { streamEvents: record.streamEvents } : {}),
  });
  await countTokens(tx, ctx, tenantId, record.promptTokens + record.completionTokens);
  await recordEvent(tx, ctx, {
    eventType: 'chat.iteration_completed',
    tenantId,
    turnId,
    capsuleId,
    iteration: record.iteration,
    occurredAt: record.completedAt,
    payload: {
      conversation_id: conversationId,
      iteration_number: record.iteration,
      model: record.model,
      confidence: record.confidence,
      convergence_score: record.convergenceScore,
      exit_reason: record.exitReason,
      weights_before: record.weightsBefore,
      weights_after: record.weightsAfter,
      neuromodulators_after: record.neuromodulatorsAfter,
      tools_used: record.toolResults.map((o) => o.name),
      prompt_tokens: record.promptTokens,
      completion_tokens: record.completionTokens,
      latency_ms: record.latencyMs,
      learning: record.metadata.learning,
    },
  });
}
