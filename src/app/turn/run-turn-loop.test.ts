import { describe, expect, it } from 'vitest';
import { createScriptedModel, type Script } from '../../adapters/model/scripted/index.js';
import { defaultLearnedState, learningConstants } from '../../core/learning/index.js';
import { systemClock } from '../../ports/clock.js';
import { createReplayLearner } from '../replay/index.js';
import type { ChatModel, ModelCallOptions } from '../../ports/chat-model.js';
import type { ToolSet } from '../../ports/tools.js';
import { runTurnLoop, type IterationRecord, type Learner, type LearnResult, type TurnSettings } from './index.js';

const settings: TurnSettings = { minIterations: 1, maxIterations: 10, threshold: 0.9, tokenBudget: 1_000_000, deadlineMs: 60_000, contextTokens: 8192, degraded: false, memoryOff: false };
const high = [-0.01, -0.02, -0.01];
const low = [-1.5, -2, -1.2, -1.8];

async function run(script: Script, overrides: Partial<TurnSettings> = {}, signal?: AbortSignal, tools: Pick<ToolSet, 'definitions' | 'run'> = { definitions: [], run: async () => [] }, started?: Promise<void>) {
  const saved: IterationRecord[] = [];
  const deltas: string[] = [];
  const prompts: ModelCallOptions[] = [];
  const scripted = createScriptedModel({ script });
  const model: ChatModel = { ...scripted, stream: (options) => (prompts.push(options), scripted.stream(options)) };
  const result = await runTurnLoop(
    {
      model,
      tools,
      learner: createReplayLearner({ config: learningConstants, seed: 7, startState: defaultLearnedState() }),
      clock: systemClock,
      signal,
      ...(started ? { started } : {}),
      sink: {
        iterationStarted: () => undefined,
        delta: (_k, text) => deltas.push(text),
        toolCall: () => undefined,
        toolResult: () => undefined,
        saveIteration: async (r) => void saved.push(r),
        iterationCompleted: () => undefined,
      },
    },
    { turnId: 't', tenantId: 'x', capsuleId: 'c', userId: 'u', seed: 7, systemPrompt: 'sys', history: [], userMessage: 'hello there', memories: [], lane: { weights: defaultLearnedState().weights, flipped: {} }, settings: { ...settings, ...overrides }, startState: defaultLearnedState() },
  );
  return { result, saved, deltas, prompts };
}

describe('runTurnLoop', () => {
  it('beside its start being written: drafts, but calls no tool and stores nothing until the start committed', async () => {
    let commit!: () => void;
    const started = new Promise<void>((resolve) => (commit = resolve));
    const calls: string[] = [];
    const tools: Pick<ToolSet, 'definitions' | 'run'> = {
      definitions: [{ name: 'echo', description: 'echo', parameters: { type: 'object', properties: {} } }] as never,
      run: async (requested) => (calls.push(...requested.map((c) => c.name)), requested.map((c) => ({ callId: c.callId, name: c.name, ok: true, result: 'ok', latency_ms: 0, outcome: 'ok' }) as never)),
    };
    const script = { turns: [{ iterations: [{ text: 'let me check', logprobs: low, tool_calls: [{ name: 'echo', args: {} }] }, { text: 'The answer is ok.', logprobs: high, final: true }] }] } as never;
    const running = run(script, {}, undefined, tools, started);
    let drafted = false;
    for (let i = 0; i < 50 && !drafted; i++) {
      await new Promise((r) => setTimeout(r, 2));
      drafted = calls.length > 0;
    }
    expect(calls).toEqual([]);
    commit();
    const { result, saved } = await running;
    expect(calls).toEqual(['echo']);
    expect(saved.length).toBeGreaterThan(0);
    expect(result.exitReason).toBe('llm_completed');
  });

  it('ends without storing anything when its start was not written', async () => {
    const started = Promise.reject(new Error('the minute is full'));
    started.catch(() => undefined);
    const calls: string[] = [];
    const tools: Pick<ToolSet, 'definitions' | 'run'> = { definitions: [{ name: 'echo', description: 'echo', parameters: { type: 'object', properties: {} } }] as never, run: async (requested) => (calls.push('echo'), requested as never) };
    const { result, saved } = await run({ turns: [{ iterations: [{ text: 'let me check', logprobs: low, tool_calls: [{ name: 'echo', args: {} }] }] }] } as never, {}, undefined, tools, started);
    expect(saved).toEqual([]);
    expect(calls).toEqual([]);
    expect(result.exitReason).toBe('error');
  });

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

  it('never converges on a draft cut off by the output limit, however confident (SPEC §13.3)', async () => {
    const cut = { text: 'The capital of France is Paris, a city that', logprobs: [-0.001, -0.001], finish_reason: 'length' as const };
    const { result, saved, prompts } = await run({ turns: [{ iterations: [cut, { ...cut, text: 'The capital of France is Paris, which is', final: true }, { text: 'Paris.', logprobs: [-0.3] }] }] }, { threshold: 0.5 });
    expect(saved[0]!.exitReason).toBe('continue');
    expect(saved[0]!.convergenceScore).toBe(0);
    expect(saved[0]!.confidence).toBeGreaterThan(0.99);
    expect(saved[0]!.metadata.defects).toEqual(['truncated']);
    expect(saved[0]!.metadata.metrics.confidence).toBe(0);
    expect(saved[1]!.exitReason).not.toMatch(/converged|llm_completed/);
    expect(String(prompts[1]!.messages.at(-1)!.content)).toContain('cut off');
    expect(result.best?.content).toBe('Paris.');
  });

  it('never converges on a draft that echoes the prompt, and ends it as a loop when it repeats', async () => {
    const echo = { text: 'hello there', logprobs: [-0.001, -0.001, -0.001] };
    const { result, saved } = await run({ turns: [{ iterations: [echo] }] }, { threshold: 0.5 });
    expect(saved.every((r) => r.convergenceScore === 0 && r.exitReason !== 'converged')).toBe(true);
    expect(saved[0]!.metadata.defects).toEqual(['echo']);
    expect(result.exitReason).toBe('loop_detected');
    expect(saved).toHaveLength(2);
  });

  it('ends a repeated low-confidence draft with loop_detected, not converged', async () => {
    const { result, saved } = await run({ turns: [{ iterations: [{ text: 'It is probably Lyon.', logprobs: [-1, -1] }] }] }, { threshold: 0.55 });
    expect(saved.map((r) => r.exitReason)).toEqual(['continue', 'loop_detected']);
    expect(result.exitReason).toBe('loop_detected');
  });

  it('shows the tool calls and results as assistant tool-call and tool messages in the next prompt, with no empty assistant message', async () => {
    const tools: Pick<ToolSet, 'definitions' | 'run'> = {
      definitions: [{ name: 'calculator', description: 'calc', inputSchema: { type: 'object' } }],
      run: async (calls) => calls.map((c) => ({ callId: c.callId, name: c.name, args: c.args, ok: true, outcome: 'ok' as const, result: { result: 56088 }, latency_ms: 1 })),
    };
    const { result, saved, prompts } = await run(
      {
        turns: [
          {
            iterations: [
              { text: '', tool_calls: [{ name: 'calculator', args: { expression: '123*456' } }] },
              { text: 'The answer is 5192.', logprobs: [-0.1] },
              { text: 'The answer is 56088.', logprobs: [-0.1] },
            ],
          },
        ],
      },
      { threshold: 0.55 },
      undefined,
      tools,
    );
    const second = prompts[1]!.messages;
    expect(second.slice(1)).toEqual([
      { role: 'user', content: 'hello there' },
      { role: 'assistant', content: '', toolCalls: [{ callId: 'call_0_0', name: 'calculator', args: { expression: '123*456' } }] },
      { role: 'tool', toolCallId: 'call_0_0', toolName: 'calculator', content: '{"result":56088}' },
    ]);
    expect(prompts[1]!.tools).toHaveLength(1);
    // The draft that ignores the result fails the check; the refine step names the result.
    expect(saved[1]!.metadata.defects).toEqual(['tool_result_unused']);
    const third = prompts[2]!.messages;
    expect(third.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'user']);
    expect(third.at(-1)!.content).toContain('returned 56088');
    expect(third.some((m) => m.role === 'assistant' && m.content === '' && !('toolCalls' in m && m.toolCalls?.length))).toBe(false);
    expect(prompts[2]!.tools).toHaveLength(1);
    expect(result.best?.content).toBe('The answer is 56088.');
  });

  describe('with a sink that keeps the next iteration behind a write not committed yet', () => {
    /** A loop whose writes commit only a few ms after they were handed over, logging what happens in order. */
    function overlapped(script: Script, tools: Pick<ToolSet, 'definitions' | 'run'> = { definitions: [], run: async () => [] }, failWrite?: number, { lingerMs = 0, grouping, failDraft }: { lingerMs?: number; grouping?: 'one statement' | 'apart'; failDraft?: number } = {}) {
      const log: string[] = [];
      const transactions: unknown[] = [];
      const scripted = createScriptedModel({ script });
      let call = 0;
      const model: ChatModel = {
        ...scripted,
        stream: (options) => {
          const k = call++;
          log.push(`draft ${k}`);
          if (k === failDraft) throw new Error('the model went away');
          return scripted.stream(options);
        },
      };
      const inner = slowCommits(createReplayLearner({ config: learningConstants, seed: 7, startState: defaultLearnedState() }), log, failWrite);
      const running = runTurnLoop(
        {
          model,
          tools: { ...tools, run: async (calls, context) => (log.push(`tools ${context.iteration}`), tools.run(calls, context)) },
          learner: grouping ? groupingCommits(inner, log, grouping === 'apart') : inner,
          clock: systemClock,
          lingerMs,
          sink: {
            iterationStarted: (k) => void log.push(`started ${k}`),
            delta: () => undefined,
            toolCall: () => undefined,
            toolResult: () => undefined,
            saveIteration: async (r, tx) => {
              transactions.push(tx);
              log.push(`write ${r.iteration}`);
            },
            iterationCompleted: (r) => void log.push(`completed ${r.iteration}`),
            deferCompletion: (k) => void log.push(`defer ${k}`),
            dropHeld: () => void log.push('drop'),
          },
        },
        { turnId: 't', tenantId: 'x', capsuleId: 'c', userId: 'u', seed: 7, systemPrompt: 'sys', history: [], userMessage: 'hello there', memories: [], lane: { weights: defaultLearnedState().weights, flipped: {} }, settings: { ...settings, maxIterations: 3 }, startState: defaultLearnedState() },
      );
      return { running, log, transactions };
    }
    /**
     * A learner that writes the steps handed over in the same moment in one "statement" (as the
     * in-process brain does): each persisted, in order, with the same transaction object, one commit.
     */
    function groupingCommits(inner: Learner, log: string[], apart = false): Learner {
      let open: { tx: object; steps: (() => Promise<void>)[]; committed: Promise<void> } | undefined;
      return {
        groupsWrites: true,
        learn: (input) => {
          if (!open) {
            const group = { tx: {}, steps: [] as (() => Promise<void>)[], committed: Promise.resolve() };
            group.committed = Promise.resolve().then(async () => {
              open = undefined;
              log.push(`statement of ${group.steps.length}`);
              for (const step of group.steps) await step();
            });
            open = group;
          }
          const group = open;
          let learned!: Promise<LearnResult>;
          group.steps.push(async () => {
            const tx = apart ? {} : group.tx;
            learned = inner.learn({ ...input, persist: (result) => input.persist(result, tx) });
            await learned.catch(() => undefined);
          });
          return group.committed.then(() => learned);
        },
      };
    }
    /** A learner whose writes commit a few milliseconds after they were handed over (and `failWrite`'s fails then). */
    function slowCommits(inner: Learner, log: string[], failWrite?: number): Learner {
      return {
        learn: async (input) => {
          const result = await inner.learn(input);
          await new Promise((r) => setTimeout(r, 5));
          if (input.iteration === failWrite) {
            log.push(`failed ${input.iteration}`);
            throw new Error('the database went away');
          }
          return result;
        },
      };
    }
    const three = { turns: [{ iterations: [{ text: 'Paris is maybe the capital.', logprobs: low }, { text: 'The capital of France is Paris.', logprobs: low }, { text: 'The capital of France is Paris!', logprobs: high }] }] } as never;

    it('drafts the next iteration while the write commits, and completes the iterations in order, each before the next is written', async () => {
      const { running, log } = overlapped(three);
      const result = await running;
      expect(result.iterations.map((r) => r.iteration)).toEqual([0, 1, 2]);
      expect(log.filter((e) => e.startsWith('completed'))).toEqual(['completed 0', 'completed 1', 'completed 2']);
      for (const k of [0, 1]) {
        // Its completion's place kept, the next draft made before it committed, the next write after.
        expect(log.indexOf(`defer ${k}`)).toBeLessThan(log.indexOf(`draft ${k + 1}`));
        expect(log.indexOf(`draft ${k + 1}`)).toBeLessThan(log.indexOf(`completed ${k}`));
        expect(log.indexOf(`completed ${k}`)).toBeLessThan(log.indexOf(`write ${k + 1}`));
      }
      // The last iteration (it ends the turn) is not deferred: the loop waits for its commit.
      expect(log.filter((e) => e.startsWith('defer'))).toEqual(['defer 0', 'defer 1']);
      expect(log.at(-1)).toBe('completed 2');
    });

    it('with a linger and a learner that groups writes, a fast turn writes its iterations in one statement, each completed in order after it', async () => {
      const { running, log, transactions } = overlapped(three, undefined, undefined, { lingerMs: 200, grouping: 'one statement' });
      const started = performance.now();
      const result = await running;
      expect(performance.now() - started).toBeLessThan(150); // the last iteration did not wait for the linger
      expect(result.iterations.map((r) => r.iteration)).toEqual([0, 1, 2]);
      expect(log.filter((e) => e.startsWith('statement'))).toEqual(['statement of 3']);
      expect(new Set(transactions).size).toBe(1);
      // Every draft before the one statement; the completions after it, in order.
      expect(log.indexOf('draft 2')).toBeLessThan(log.indexOf('statement of 3'));
      expect(log.slice(-3)).toEqual(['completed 0', 'completed 1', 'completed 2']);
      // Learning chained through the statement as it would one statement each.
      const { result: alone } = await run(three, { maxIterations: 3 });
      expect(result.iterations.map((r) => r.weightsAfter)).toEqual(alone.iterations.map((r) => r.weightsAfter));
    });

    it('a deferred iteration is written once its linger is over, while a slow next draft streams', async () => {
      const slowNext = { turns: [{ iterations: [{ text: 'Paris is maybe the capital.', logprobs: low }, { text: 'a slower second draft, streamed out', tokens_per_s: 20 }, { text: 'The capital of France is Paris!', logprobs: high }] }] } as never;
      const { running, log } = overlapped(slowNext, undefined, undefined, { lingerMs: 20, grouping: 'one statement' });
      const result = await running;
      expect(result.iterations.map((r) => r.iteration)).toEqual([0, 1, 2]);
      // Iteration 0 went alone (its linger ended during draft 1) and completed before draft 1 ended.
      expect(log.filter((e) => e.startsWith('statement'))[0]).toBe('statement of 1');
      expect(log.indexOf('completed 0')).toBeLessThan(log.indexOf('draft 2'));
    });

    it('a learner that cannot write an iteration with the one before it writes it after that one committed', async () => {
      // Two statements: the second step refused (not joined), then written alone.
      const { running, log } = overlapped(three, undefined, undefined, { lingerMs: 200, grouping: 'apart' });
      const result = await running;
      expect(result.iterations.map((r) => r.iteration)).toEqual([0, 1, 2]);
      expect(log.filter((e) => e.startsWith('completed'))).toEqual(['completed 0', 'completed 1', 'completed 2']);
      // Handed over together, refused before writing, each written after the one before it committed.
      expect(log.filter((e) => e.startsWith('statement'))).toEqual(['statement of 3', 'statement of 1', 'statement of 1']);
      for (const k of [0, 1]) expect(log.indexOf(`completed ${k}`)).toBeLessThan(log.lastIndexOf(`write ${k + 1}`));
    });

    it('an iteration that was deferred is still stored when the next draft fails', async () => {
      const { running, log } = overlapped(three, undefined, undefined, { lingerMs: 200, grouping: 'one statement', failDraft: 1 });
      const result = await running;
      expect(result.exitReason).toBe('error');
      expect(result.error).toMatchObject({ iteration: 1 });
      expect(result.iterations.map((r) => r.iteration)).toEqual([0]);
      expect(log).toContain('completed 0');
    });

    it('runs no tool before the iterations deferred before it are stored', async () => {
      const tools: Pick<ToolSet, 'definitions' | 'run'> = {
        definitions: [{ name: 'echo', description: 'echo', parameters: { type: 'object', properties: {} } }] as never,
        run: async (requested) => requested.map((c) => ({ callId: c.callId, name: c.name, ok: true, result: 'ok', latency_ms: 0, outcome: 'ok' }) as never),
      };
      const script = { turns: [{ iterations: [{ text: 'Paris is maybe the capital.', logprobs: low }, { text: 'let me check', logprobs: low, tool_calls: [{ name: 'echo', args: {} }] }, { text: 'The capital of France is Paris!', logprobs: high, final: true }] }] } as never;
      const { running, log } = overlapped(script, tools, undefined, { lingerMs: 200, grouping: 'one statement' });
      await running;
      expect(log.indexOf('tools 1')).toBeGreaterThan(log.indexOf('completed 0'));
    });

    it('gives the same iterations as a loop that waits for every commit (replay stays exact)', async () => {
      const { running } = overlapped(three);
      const overlappedResult = await running;
      const { result } = await run(three, { maxIterations: 3 });
      const strip = (r: IterationRecord) => ({ ...r, latencyMs: 0, startedAt: 0, completedAt: 0, metadata: { ...r.metadata, metrics: { ...r.metadata.metrics, latency_ms: 0 } } });
      expect(overlappedResult.iterations.map(strip)).toEqual(result.iterations.map(strip));
      expect(overlappedResult.exitReason).toBe(result.exitReason);
    });

    it('runs no tool of the next iteration before the write in flight committed', async () => {
      const tools: Pick<ToolSet, 'definitions' | 'run'> = {
        definitions: [{ name: 'echo', description: 'echo', parameters: { type: 'object', properties: {} } }] as never,
        run: async (requested) => requested.map((c) => ({ callId: c.callId, name: c.name, ok: true, result: 'ok', latency_ms: 0, outcome: 'ok' }) as never),
      };
      const script = { turns: [{ iterations: [{ text: 'Paris is maybe the capital.', logprobs: low }, { text: 'let me check', logprobs: low, tool_calls: [{ name: 'echo', args: {} }] }, { text: 'The capital of France is Paris!', logprobs: high, final: true }] }] } as never;
      const { running, log } = overlapped(script, tools);
      await running;
      expect(log.indexOf('tools 1')).toBeGreaterThan(log.indexOf('completed 0'));
    });

    it("a write that fails while the next iteration drafts stops that draft at once, and the turn ends with the write's error", async () => {
      const slowNext = { turns: [{ iterations: [{ text: 'Paris is maybe the capital.', logprobs: low }, { text: 'a very slow second draft that takes seconds to stream out', tokens_per_s: 2 }] }] } as never;
      const started = performance.now();
      const { running } = overlapped(slowNext, undefined, 0);
      const result = await running;
      expect(performance.now() - started).toBeLessThan(1_500);
      expect(result.exitReason).toBe('error');
      expect(result.error).toMatchObject({ iteration: 0, message: expect.stringContaining('the database went away') });
      expect(result.iterations).toEqual([]);
    });

    it('a write that fails while the next iteration runs ends the turn at that iteration, its held events dropped and nothing after it written', async () => {
      const { running, log } = overlapped(three, undefined, 1);
      const result = await running;
      expect(result.exitReason).toBe('error');
      expect(result.error).toMatchObject({ iteration: 1, message: expect.stringContaining('the database went away') });
      expect(result.iterations.map((r) => r.iteration)).toEqual([0]);
      expect(log).toContain('drop');
      expect(log).not.toContain('write 2');
    });
  });
});

