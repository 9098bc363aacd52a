import { describe, expect, it } from 'vitest';
import { createScriptedModel, type Script } from '../../adapters/model/scripted/index.js';
import { defaultLearnedState, learningConstants } from '../../core/learning/index.js';
import { systemClock } from '../../ports/clock.js';
import type { ToolCall } from '../../ports/chat-model.js';
import type { ToolOutcome } from '../../ports/tools.js';
import { createReplayLearner } from '../replay/index.js';
import { runTurnLoop, type IterationRecord, type TurnLoopInput, type TurnSettings } from './index.js';

const settings: TurnSettings = { minIterations: 1, maxIterations: 6, threshold: 0.9, tokenBudget: 1_000_000, deadlineMs: 60_000, contextTokens: 8192, degraded: false, memoryOff: false };

/** Iteration 1 calls a tool; the drafts converge at iteration 4. */
const script: Script = {
  turns: [
    {
      iterations: [
        { text: 'A first draft.', logprobs: [-1.2] },
        { text: 'Let me check.', tool_calls: [{ name: 'lookup', args: { q: 'x' } }], logprobs: [-0.9] },
        { text: 'The lookup says x is 42.', logprobs: [-0.5] },
        { text: 'x is 42, as the lookup said.', logprobs: [-0.3] },
        { text: 'x is 42, as the lookup said!', logprobs: [-0.01] },
      ] as never,
    },
  ],
};

/** A tool that answers, or — for calls awaiting approval — reports them so. */
const tools = (awaiting: boolean) => ({
  definitions: [{ name: 'lookup', description: 'looks up', inputSchema: { type: 'object' } }],
  run: async (calls: ToolCall[]): Promise<ToolOutcome[]> =>
    calls.map((call) => (awaiting ? { ...call, ok: false, outcome: 'awaiting_approval' as const, error: 'needs approval', latency_ms: 0 } : { ...call, ok: true, outcome: 'ok' as const, result: { x: 42 }, latency_ms: 0 })),
});

function run(input: Partial<TurnLoopInput>, { awaiting = false, startState = defaultLearnedState() } = {}) {
  const saved: IterationRecord[] = [];
  const result = runTurnLoop(
    {
      model: createScriptedModel({ script }),
      tools: tools(awaiting),
      learner: createReplayLearner({ config: learningConstants, seed: 3, startState }),
      clock: systemClock,
      recorded: { latencyMs: () => 0, deadlinePassed: () => false },
      sink: { iterationStarted: () => undefined, delta: () => undefined, toolCall: () => undefined, toolResult: () => undefined, saveIteration: async (r) => void saved.push(r), iterationCompleted: () => undefined },
    },
    { turnId: 't', tenantId: 'x', capsuleId: 'c', userId: 'u', seed: 3, systemPrompt: 'sys', history: [], userMessage: 'what is x?', memories: [], lane: { weights: defaultLearnedState().weights, flipped: {} }, settings, startState: defaultLearnedState(), ...input },
  );
  return { result, saved };
}

const essentials = (records: IterationRecord[]) => records.map((r) => ({ k: r.iteration, content: r.content, score: r.convergenceScore, exit: r.exitReason, weights: r.weightsAfter, tokens: r.metadata.tokens_used, tools: r.metadata.tool_success_rate }));

describe('a turn that goes on after its committed iterations', () => {
  it('makes exactly the iterations an uninterrupted run makes, from any iteration boundary', async () => {
    const whole = run({});
    const all = (await whole.result, whole.saved);
    expect(all.length).toBeGreaterThanOrEqual(4);
    for (let boundary = 1; boundary < all.length; boundary++) {
      const committed = all.slice(0, boundary);
      // The learned state that held at the boundary (as the capsule's history has it).
      const held = all[boundary]!.metadata.learning_before!;
      expect(held.weights).toEqual(committed.at(-1)!.weightsAfter);
      const rest = run({ resume: { records: committed, resolvedCalls: new Map() } }, { startState: held });
      const result = await rest.result;
      expect(essentials(rest.saved)).toEqual(essentials(all.slice(boundary)));
      expect(result.exitReason).toBe((await whole.result).exitReason);
      expect(result.iterations).toHaveLength(all.length);
    }
  });

  it('pauses at the boundary after a call that awaits approval, and its decided outcome feeds the next iteration as if it had run there', async () => {
    const paused = run({}, { awaiting: true });
    const pausedResult = await paused.result;
    expect(pausedResult.paused).toMatchObject({ iteration: 1, calls: [{ name: 'lookup', outcome: 'awaiting_approval' }] });
    expect(pausedResult.exitReason).toBeUndefined();
    expect(paused.saved.map((r) => r.exitReason)).toEqual(['continue', 'continue']);
    expect(paused.saved[1]!.convergenceScore).toBe(0);

    const approved: ToolOutcome = { callId: pausedResult.paused!.calls[0]!.callId, name: 'lookup', args: { q: 'x' }, ok: true, outcome: 'ok', result: { x: 42 }, latency_ms: 0 };
    // Replay plays the same decision back through the gate, in one go from iteration 0.
    const replayed: IterationRecord[] = [];
    const again = runTurnLoop(
      {
        model: createScriptedModel({ script }),
        tools: tools(true),
        learner: createReplayLearner({ config: learningConstants, seed: 3, startState: defaultLearnedState() }),
        clock: systemClock,
        recorded: { latencyMs: () => 0, deadlinePassed: () => false },
        approvals: { resolve: async (k) => (k === 1 ? [approved] : undefined) },
        sink: { iterationStarted: () => undefined, delta: () => undefined, toolCall: () => undefined, toolResult: () => undefined, saveIteration: async (r) => void replayed.push(r), iterationCompleted: () => undefined },
      },
      { turnId: 't', tenantId: 'x', capsuleId: 'c', userId: 'u', seed: 3, systemPrompt: 'sys', history: [], userMessage: 'what is x?', memories: [], lane: { weights: defaultLearnedState().weights, flipped: {} }, settings, startState: defaultLearnedState() },
    );
    await again;
    const resumed = run({ resume: { records: paused.saved, resolvedCalls: new Map([[1, [approved]]]) } }, { startState: replayed[2]!.metadata.learning_before! });
    await resumed.result;
    expect(essentials(replayed)).toEqual(essentials([...paused.saved, ...resumed.saved]));
    // The approved result counts: the turn's tool success after the decision is 1.
    expect(resumed.saved[0]!.metadata.tool_success_rate).toBe(1);
  });
});
