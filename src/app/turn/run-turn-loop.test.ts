import { describe, expect, it } from 'vitest';
import { createScriptedModel, type Script } from '../../adapters/model/scripted/index.js';
import { defaultLearnedState, learningConstants } from '../../core/learning/index.js';
import { systemClock } from '../../ports/clock.js';
import { createReplayLearner } from '../replay/index.js';
import { runTurnLoop, type IterationRecord, type TurnSettings } from './index.js';

const settings: TurnSettings = { minIterations: 1, maxIterations: 10, threshold: 0.9, tokenBudget: 1_000_000, deadlineMs: 60_000, contextTokens: 8192, degraded: false, memoryOff: false };
const high = [-0.01, -0.02, -0.01];
const low = [-1.5, -2, -1.2, -1.8];

async function run(script: Script, overrides: Partial<TurnSettings> = {}, signal?: AbortSignal) {
  const saved: IterationRecord[] = [];
  const deltas: string[] = [];
  const result = await runTurnLoop(
    {
      model: createScriptedModel({ script }),
      tools: { definitions: [], run: async () => [] },
      learner: createReplayLearner({ config: learningConstants, seed: 7, startState: defaultLearnedState() }),
      clock: systemClock,
      signal,
      sink: {
        iterationStarted: () => undefined,
        delta: (_k, text) => deltas.push(text),
        toolCall: () => undefined,
        toolResult: () => undefined,
        saveIteration: async (r) => void saved.push(r),
        iterationCompleted: () => undefined,
      },
    },
    { turnId: 't', tenantId: 'x', capsuleId: 'c', userId: 'u', seed: 7, systemPrompt: 'sys', history: [], userMessage: 'hello there', memories: [], settings: { ...settings, ...overrides }, startState: defaultLearnedState() },
  );
  return { result, saved, deltas };
}

describe('runTurnLoop', () => {
  it('exits converged after 3 iterations when the drafts converge at iteration 2', async () => {
    const { result, saved } = await run({
      turns: [
        {
          iterations: [
            { text: 'Paris is maybe the capital.', logprobs: low, final: false, latency_ms: 0, tokens_per_s: 0, tool_calls: [] },
            { text: 'The capital of France is Paris.', logprobs: low, final: false, latency_ms: 0, tokens_per_s: 0, tool_calls: [] },
            { text: 'The capital of France is Paris!', logprobs: high, final: false, latency_ms: 0, tokens_per_s: 0, tool_calls: [] },
          ],
        },
      ],
    });
    expect(result.exitReason).toBe('converged');
    expect(saved).toHaveLength(3);
    expect(saved.map((r) => r.exitReason)).toEqual(['continue', 'continue', 'converged']);
    expect(saved[2]!.convergenceScore).toBeGreaterThanOrEqual(0.9);
    expect(result.best?.iteration).toBe(2);
  });

  it('exits llm_completed when the model declares its answer final', async () => {
    const { result, saved } = await run({
      turns: [{ iterations: [{ text: 'first', confidence: 0.3 }, { text: 'better answer', confidence: 0.4, final: true }] as never }],
    });
    expect(result.exitReason).toBe('llm_completed');
    expect(saved).toHaveLength(2);
  });

  it('stops repeated identical drafts with plateau or loop_detected before max', async () => {
    const { result, saved } = await run({ turns: [{ iterations: [{ text: 'same answer every time', logprobs: low }] as never }] });
    expect(['plateau', 'loop_detected']).toContain(result.exitReason);
    expect(saved.length).toBeLessThan(10);
  });

  it('does not converge at iteration 0 on a long answer with low log-probabilities', async () => {
    const long = 'This is a long and detailed answer. '.repeat(40);
    const { saved } = await run({ turns: [{ iterations: [{ text: long, logprobs: low }, { text: `${long} More.`, logprobs: low }] as never }] }, { maxIterations: 2 });
    expect(saved[0]!.exitReason).toBe('continue');
    expect(saved[0]!.confidence).toBeLessThan(0.3);
  });

  it('keeps the best draft when the token budget runs out', async () => {
    const { result, saved } = await run(
      { turns: [{ iterations: [{ text: 'good draft here', logprobs: [-0.1] }, { text: 'worse', logprobs: [-3] }] as never }] },
      { tokenBudget: 1 },
    );
    expect(result.exitReason).toBe('budget_exhausted');
    expect(saved).toHaveLength(1);
    expect(result.best?.content).toBe('good draft here');
  });

  it('keeps the best draft when the deadline passes mid-call', async () => {
    const { result, saved } = await run(
      { turns: [{ iterations: [{ text: 'quick first draft', logprobs: [-0.5] }, { text: 'a very slow second draft that never finishes', tokens_per_s: 2 }] as never }] },
      { deadlineMs: 1500 },
    );
    expect(result.exitReason).toBe('budget_exhausted');
    expect(saved).toHaveLength(1);
    expect(result.best?.content).toBe('quick first draft');
  });

  it('runs one iteration in single-shot mode through the same code', async () => {
    const { result, saved } = await run({ turns: [{ iterations: [{ text: 'only one', logprobs: low }] as never }] }, { minIterations: 1, maxIterations: 1 });
    expect(saved).toHaveLength(1);
    expect(result.exitReason).toBe('max_iterations');
  });

  it('ends with error and the best draft so far when the provider fails', async () => {
    const { result, saved } = await run({ turns: [{ iterations: [{ text: 'draft zero', logprobs: [-0.4] }, { text: 'draft one', logprobs: [-0.2] }, { error: 'server_error' }] as never }] });
    expect(result.exitReason).toBe('error');
    expect(result.error?.code).toBe('LLM_SERVER_ERROR');
    expect(result.error?.iteration).toBe(2);
    expect(saved).toHaveLength(2);
    expect(result.best?.content).toBe('draft one');
  });

  it('streams drafts token by token, never whole drafts as one delta', async () => {
    const { deltas } = await run({ turns: [{ iterations: [{ text: 'one two three four', final: true }] as never }] });
    expect(deltas.length).toBeGreaterThanOrEqual(4);
  });

  it('is cancelled when the client goes away mid-stream', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new DOMException('gone', 'AbortError')), 600);
    const { result, saved } = await run(
      { turns: [{ iterations: [{ text: 'first draft', logprobs: [-0.5] }, { text: 'slow slow slow slow slow slow slow', tokens_per_s: 2 }] as never }] },
      {},
      controller.signal,
    );
    expect(result.exitReason).toBe('cancelled');
    expect(saved).toHaveLength(1);
    expect(result.best?.content).toBe('first draft');
  });

  it('learns after every iteration and records the chain of states', async () => {
    const { saved } = await run({ turns: [{ iterations: [{ text: 'a', confidence: 0.2 }, { text: 'b b', confidence: 0.95 }, { text: 'c c c', confidence: 0.1, final: true }] as never }] });
    for (let k = 1; k < saved.length; k++) expect(saved[k]!.weightsBefore).toEqual(saved[k - 1]!.weightsAfter);
    expect(saved.every((r) => r.metadata.learning !== 'skipped')).toBe(true);
  });
});
