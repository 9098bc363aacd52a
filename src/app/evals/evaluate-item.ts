import { setTimeout as delay } from 'node:timers/promises';
import { judgePrompt, readJudgeVerdict, scoreAnswer, type EvalConfiguration, type EvalDataset, type EvalItem, type ItemScore } from '../../core/eval/index.js';
import type { ModelStreamPart } from '../../ports/chat-model.js';
import type { EvalResultRecord } from '../../ports/store.js';
import { createCapsule } from '../capsules/index.js';
import type { AppContext, Caller } from '../context.js';
import { createConversation } from '../conversations.js';
import { isPaused, sendMessage } from '../send-message/index.js';

/** The system prompt of a dataset without a setup line. */
export const DEFAULT_EVAL_SYSTEM_PROMPT = 'Answer the question in one short sentence.';

/**
 * One item under one configuration through the real turn path: a fresh capsule (the dataset's system
 * prompt and tools, the configuration's settings), its memories remembered through the brain, a new
 * conversation, and the item's input sent as a message exactly as `POST …/messages` does. A fresh
 * capsule per item keeps items independent: no learned state or remembered answer leaks from one to
 * the next, so a resumed run gives the results a straight run gives.
 */
export async function evaluateItem(
  ctx: AppContext,
  { caller, runId, dataset, configuration, item, index, signal }: { caller: Caller; runId: string; dataset: EvalDataset; configuration: EvalConfiguration; item: EvalItem; index: number; signal?: AbortSignal },
): Promise<EvalResultRecord> {
  const { setup } = dataset;
  const capsule = await createCapsule(ctx, {
    caller,
    input: {
      name: `eval · ${dataset.name} · ${configuration.name} · #${index + 1}`,
      system_prompt: setup.system_prompt ?? DEFAULT_EVAL_SYSTEM_PROMPT,
      tools: (setup.tools ?? []).map((name) => ({ name })),
      ...configuration.capsule,
    },
  });
  if (!capsule.ok) throw new Error(`the eval capsule was refused: ${capsule.error.message}`);
  // The eval's user owns the memories: a capsule recalls its user's memories (memory_scope "user", the default).
  const scope = { tenantId: caller.tenantId, capsuleId: capsule.value.id, userId: caller.userId };
  const memories = [...(setup.memories ?? []), ...(item.memories ?? [])];
  for (const [i, memory] of memories.entries()) {
    await ctx.brain.remember(scope, { key: memory.key ?? `eval:${i + 1}`, content: memory.content, importance: memory.importance ?? 0.5, tags: ['eval'] });
  }
  const conversation = await createConversation(ctx, { caller, capsuleId: capsule.value.id, title: `eval ${dataset.name} #${index + 1}` });
  if (!conversation.ok) throw new Error(`the eval conversation was refused: ${conversation.error.message}`);

  let started = ctx.clock.now();
  let sent = await sendMessage(ctx, { caller, conversationId: conversation.value.id, content: item.input, signal });
  // The tenant's quotas hold for evals too: a refused turn waits for its window (Retry-After) and goes again.
  while (!sent.ok && sent.error.code === 'RATE_LIMITED') {
    const retryS = Number((sent.error.details as { retry_after_seconds?: unknown } | undefined)?.retry_after_seconds ?? 1);
    await delay(Math.max(1, Number.isFinite(retryS) ? retryS : 1) * 1000, undefined, signal ? { signal } : {});
    started = ctx.clock.now();
    sent = await sendMessage(ctx, { caller, conversationId: conversation.value.id, content: item.input, signal });
  }
  const latencyMs = Math.max(0, Math.round(ctx.clock.now() - started));
  if (!sent.ok) throw new Error(`the eval turn was refused: ${sent.error.message}`);
  // An eval measures answers: a turn that waits for a person's approval has none to score.
  if (isPaused(sent.value)) throw new Error('the eval turn paused for a person\'s approval: eval capsules cannot use tools that need approval');
  const turn = sent.value;
  const iterations = await ctx.store.iterations.listByTurn(turn.turn_id);
  const tokens = iterations.reduce((sum, it) => sum + it.promptTokens + it.completionTokens, 0);
  const score = item.match === 'judge' ? await judge(ctx, item, turn.content, signal) : scoreAnswer(item, turn.content);
  return {
    id: ctx.ids.uuid(),
    runId,
    configuration: configuration.name,
    itemIndex: index,
    input: item.input,
    expected: String(item.expected),
    match: item.match,
    answer: turn.content,
    correct: score.correct,
    detail: score.detail ?? null,
    tags: item.tags ?? [],
    turnId: turn.turn_id,
    conversationId: conversation.value.id,
    capsuleId: capsule.value.id,
    iterations: turn.iterations,
    exitReason: turn.exit_reason,
    tokens,
    toolsUsed: turn.tools_used,
    latencyMs,
    createdAt: new Date(ctx.clock.now()),
  };
}

/** Asks the operator's judge model (`SOMA_EVAL_JUDGE_MODEL`) whether the answer is right. */
async function judge(ctx: AppContext, item: EvalItem, answer: string, signal?: AbortSignal): Promise<ItemScore> {
  const spec = ctx.settings.evalJudgeModel;
  if (!spec) throw new Error('no judge model is configured (SOMA_EVAL_JUDGE_MODEL)');
  const prompt = judgePrompt(item, answer);
  let reply = '';
  const parts: AsyncIterable<ModelStreamPart> = ctx.models.get(spec).stream({
    messages: [
      { role: 'system', content: prompt.system },
      { role: 'user', content: prompt.user },
    ],
    temperature: 0,
    seed: 1,
    maxOutputTokens: 8,
    signal,
  });
  for await (const part of parts) if (part.type === 'finish') reply = part.output.text;
  return readJudgeVerdict(reply);
}
