import { describe, expect, it } from 'vitest';
import { allocateLanes, buildContext, refineInstruction, truncateToTokens } from './index.js';

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
  it('sends the draft, the tool results and a refine instruction from iteration 1 on', () => {
    const first = buildContext({ systemPrompt: 'sys', history: [], userMessage: 'q', memories: [], toolResults: [], iteration: 0, budgets, countTokens: words });
    expect(first.messages.map((m) => m.role)).toEqual(['system', 'user']);
    const second = buildContext({
      systemPrompt: 'sys',
      history: [],
      userMessage: 'q',
      memories: [],
      toolResults: [{ name: 'calculator', args: { expression: '6*7' }, ok: true, text: '42' }],
      previousDraft: 'draft one',
      iteration: 1,
      budgets,
      countTokens: words,
    });
    expect(second.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(second.messages[2]!.content).toBe('draft one');
    expect(second.messages[3]!.content).toContain('42');
    expect(second.messages[3]!.content).toContain(refineInstruction);
  });
  it('keeps the newest history within the lane and the memories that fit', () => {
    const history = Array.from({ length: 50 }, (_, i) => ({ role: (i % 2 ? 'assistant' : 'user') as 'user' | 'assistant', content: `message ${i} ${'x '.repeat(40)}` }));
    const built = buildContext({
      systemPrompt: 'sys',
      history,
      userMessage: 'q',
      memories: [{ key: 'a', content: 'alpha fact' }, { key: 'b', content: 'beta '.repeat(2000) }],
      toolResults: [],
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
