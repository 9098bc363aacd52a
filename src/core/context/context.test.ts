import { describe, expect, it } from 'vitest';
import { defaultLearnedState } from '../learning/index.js';
import { allocateLanes, buildContext, checkInstruction, refineInstruction, truncateToTokens } from './index.js';
import type { DraftDefect } from '../turn/index.js';

const laneWeights = defaultLearnedState().weights;

const words = (text: string) => (text.trim() === '' ? 0 : text.trim().split(/\s+/).length);

describe('allocateLanes', () => {
  it('uses the normal shares', () => {
    const b = allocateLanes({ totalTokens: 10_000, degraded: false });
    expect(b).toEqual({ system: 1500, history: 2500, memory: 2500, tools: 2000, tool_results: 1000, buffer: 500 });
  });
  it('turns tools off and widens the buffer in degraded mode', () => {
    const b = allocateLanes({ totalTokens: 10_000, degraded: true });
    expect(b.tools).toBe(0);
    expect(b.tool_results).toBe(0);
    expect(b.buffer).toBe(3500);
  });
  it('honours the minimums on a small window without exceeding it', () => {
    const b = allocateLanes({ totalTokens: 1000, degraded: false });
    expect(b.system).toBeGreaterThanOrEqual(200);
    expect(b.memory).toBeGreaterThanOrEqual(50);
    expect(b.buffer).toBeGreaterThanOrEqual(200);
    expect(Object.values(b).reduce((a, v) => a + v, 0)).toBeLessThanOrEqual(1000);
  });
});

describe('buildContext', () => {
  const budgets = allocateLanes({ totalTokens: 4000, degraded: false });
  const base = { systemPrompt: 'sys', history: [], userMessage: 'What is 6*7?', memories: [], laneWeights, budgets, countTokens: words };
  const call = { callId: 'call_1', name: 'calculator', args: { expression: '6*7' } };
  it('sends only the system prompt and the question on iteration 0', () => {
    const first = buildContext({ ...base, steps: [], iteration: 0 });
    expect(first.messages.map((m) => m.role)).toEqual(['system', 'user']);
  });
  it('shows a tool round as an assistant tool-call message and tool messages, never as user text nor an empty assistant message', () => {
    const built = buildContext({ ...base, steps: [{ text: '', toolCalls: [call], results: [{ callId: 'call_1', name: 'calculator', args: call.args, ok: true, text: '{"result":42}' }] }], iteration: 1 });
    expect(built.messages).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'What is 6*7?' },
      { role: 'assistant', content: '', toolCalls: [call] },
      { role: 'tool', toolCallId: 'call_1', toolName: 'calculator', content: '{"result":42}' },
    ]);
    expect(built.messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['What is 6*7?']);
    expect(built.used.tool_results).toBeGreaterThan(0);
  });
  it('shows a failed call as an error in its tool message, and the previous draft before the refine instruction', () => {
    const built = buildContext({
      ...base,
      steps: [
        { text: '', toolCalls: [call], results: [{ callId: 'call_1', name: 'calculator', args: call.args, ok: false, text: 'tool denied by soma.tools policy' }] },
        { text: 'It is 42.', toolCalls: [], results: [] },
      ],
      instruction: 'Check your answer.',
      iteration: 2,
    });
    expect(built.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'user']);
    expect(built.messages[3]).toMatchObject({ role: 'tool', content: 'error: tool denied by soma.tools policy' });
    expect(built.messages[4]).toEqual({ role: 'assistant', content: 'It is 42.' });
    expect(built.messages[5]).toEqual({ role: 'user', content: 'Check your answer.' });
    expect(built.messages.some((m) => m.role === 'assistant' && m.content === '' && !m.toolCalls)).toBe(false);
  });
  it('shows only the previous plain draft, not older ones', () => {
    const built = buildContext({ ...base, steps: [{ text: 'one', toolCalls: [], results: [] }, { text: 'two', toolCalls: [], results: [] }], instruction: 'again', iteration: 2 });
    expect(built.messages.map((m) => m.content)).toEqual(['sys', 'What is 6*7?', 'two', 'again']);
  });
  it('omits a tool result that does not fit its lane but keeps the tool message', () => {
    const tiny = { ...budgets, tool_results: 2 };
    const built = buildContext({ ...base, budgets: tiny, steps: [{ text: '', toolCalls: [call], results: [{ callId: 'call_1', name: 'calculator', args: call.args, ok: true, text: 'a b c d e f' }] }], iteration: 1 });
    expect(built.messages.at(-1)).toMatchObject({ role: 'tool', content: 'result omitted (context budget)' });
  });
  it('keeps the newest history within the lane and the memories that fit', () => {
    const history = Array.from({ length: 50 }, (_, i) => ({ role: (i % 2 ? 'assistant' : 'user') as 'user' | 'assistant', content: `message ${i} ${'x '.repeat(40)}` }));
    const built = buildContext({
      systemPrompt: 'sys',
      history,
      userMessage: 'q',
      memories: [{ key: 'a', content: 'alpha fact', similarity: 1 }, { key: 'b', content: 'beta '.repeat(2000), similarity: 0.9 }],
      laneWeights,
      steps: [],
      iteration: 0,
      budgets,
      countTokens: words,
    });
    expect(built.used.history).toBeLessThanOrEqual(budgets.history);
    expect(built.messages[built.messages.length - 2]!.content).toContain('message 49');
    expect(built.memoryKeys).toEqual(['a']);
  });
  it('truncates by tokens', () => {
    expect(words(truncateToTokens('a b c d e f', 3, words))).toBe(3);
  });
});

describe('refineInstruction', () => {
  const none = { defects: [] as DraftDefect[], toolResultsArrived: false, numericResults: [] };
  it('is absent right after a tool round with no failed check: the model continues after the results', () => {
    expect(refineInstruction({ ...none, toolResultsArrived: true }, { selfAssessment: false })).toBeUndefined();
  });
  it('names each failed check and asks for the answer again', () => {
    const text = refineInstruction({ ...none, defects: ['truncated', 'tool_result_unused'], numericResults: [{ name: 'calculator', args: { expression: '6*7' }, value: 42 }] }, { selfAssessment: false })!;
    expect(text).toContain('cut off');
    // The result is the last number of the feedback (a model that restates it ends on the answer).
    expect(text).toContain("for 6*7 it returned 42.");
    expect(refineInstruction({ ...none, defects: ['tool_result_unused'], numericResults: [{ name: 'lookup', args: { a: 1, b: 2 }, value: 3 }] }, { selfAssessment: false })).toContain('for {"a":1,"b":2} it returned 3.');
    expect(text).toContain('Answer the question again');
    expect(text).not.toContain('CONFIDENCE');
  });
  it('names a failed scorer check with what the scorer said', () => {
    const text = refineInstruction({ ...none, defects: ['scorer_failed'], scorerFeedback: 'It must match the regular expression ^teal$.' }, { selfAssessment: false })!;
    expect(text).toContain('It must match the regular expression ^teal$.');
    expect(text).toContain('Answer the question again');
    expect(refineInstruction({ ...none, defects: ['scorer_failed'] }, { selfAssessment: false })).toContain('did not pass the answer check');
  });
  it('is a plain second look without a signal, and asks for CONFIDENCE/FINAL only from models without log-probabilities', () => {
    expect(refineInstruction(none, { selfAssessment: false })).toBe(checkInstruction);
    expect(refineInstruction(none, { selfAssessment: true })).toContain('CONFIDENCE');
  });
});
