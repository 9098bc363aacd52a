import { describe, expect, it } from 'vitest';
import { normaliseAnswer, parseConfiguration, parseConfigurations, parseDataset, quantile, readJudgeVerdict, scoreAnswer, summariseRun, validateDataset } from './index.js';

describe('scoreAnswer', () => {
  it('exact compares after normalising case, spaces, quotes and final punctuation', () => {
    expect(scoreAnswer({ expected: 'Paris', match: 'exact' }, '  "paris." ').correct).toBe(true);
    expect(scoreAnswer({ expected: 'Paris', match: 'exact' }, 'The capital is Paris.').correct).toBe(false);
    expect(normaliseAnswer('Hello   World!')).toBe('hello world');
  });
  it('contains finds the expected text anywhere, case-insensitively', () => {
    expect(scoreAnswer({ expected: 'Paris', match: 'contains' }, 'The capital of France is PARIS.').correct).toBe(true);
    expect(scoreAnswer({ expected: 'Paris', match: 'contains' }, 'It is Lyon.').correct).toBe(false);
  });
  it('regex matches case-insensitively and fails a pattern that backtracks forever instead of hanging', () => {
    expect(scoreAnswer({ expected: '\\b(?:seven|7)\\b', match: 'regex' }, 'A week has Seven days.').correct).toBe(true);
    expect(scoreAnswer({ expected: '\\bice\\b', match: 'regex' }, 'That is a nice price.').correct).toBe(false);
    const started = Date.now();
    const slow = scoreAnswer({ expected: '^(a+)+$', match: 'regex' }, `${'a'.repeat(40)}b`);
    expect(slow).toEqual({ correct: false, detail: expect.stringContaining('did not finish') });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
  it('number reads the last number of the answer, with thousands separators, within the tolerance', () => {
    expect(scoreAnswer({ expected: 56088, match: 'number' }, '123 × 456 = 56,088.')).toEqual({ correct: true, detail: 'read 56088' });
    expect(scoreAnswer({ expected: 42, match: 'number' }, 'The answer is 42, not 41.').correct).toBe(false);
    expect(scoreAnswer({ expected: 0.3333, match: 'number', tolerance: 0.001 }, 'About 0.333').correct).toBe(true);
    expect(scoreAnswer({ expected: 7, match: 'number' }, 'seven').correct).toBe(false);
  });
  it('reads a judge verdict from its first YES or NO', () => {
    expect(readJudgeVerdict('YES, it is right').correct).toBe(true);
    expect(readJudgeVerdict('No.').correct).toBe(false);
    expect(readJudgeVerdict('maybe').correct).toBe(false);
  });
});

describe('datasets', () => {
  it('reads a setup line, items, and skips blank and comment lines', () => {
    const text = ['{"setup": {"system_prompt": "Be brief.", "tools": ["calculator"], "memories": [{"content": "The sky is green here."}]}}', '', '// arithmetic', '{"input": "What is 6*7?", "expected": 42, "match": "number"}', '{"input": "Capital of France?", "expected": "Paris", "match": "contains", "tags": ["geo"], "memories": [{"key": "k", "content": "x"}]}'].join('\n');
    const parsed = parseDataset('mini', text);
    expect('dataset' in parsed && parsed.dataset).toMatchObject({ name: 'mini', setup: { system_prompt: 'Be brief.', tools: ['calculator'] }, items: [{ expected: 42 }, { tags: ['geo'] }] });
  });
  it('names the line of every bad item and of text that is not JSON', () => {
    const parsed = parseDataset('bad', ['{"input": "a", "expected": "b", "match": "fuzzy"}', '{"input": "q", "expected": "x", "match": "number"}', 'not json'].join('\n'));
    expect(parsed).toEqual({ issues: [{ line: 3, message: 'not a JSON object' }] });
    const items = parseDataset('bad', ['{"setup": {}}', '{"input": "a", "expected": "b", "match": "fuzzy"}', '{"input": "q", "expected": "x", "match": "number"}', '{"input": "q", "expected": "(", "match": "regex"}', '{"input": "q", "expected": "x", "match": "exact", "extra": 1}'].join('\n'));
    expect('issues' in items && items.issues.map((i) => i.line)).toEqual([2, 3, 4, 5]);
  });
  it('refuses an empty dataset and one over the item limit', () => {
    expect(validateDataset({ name: 'x', items: [] })).toEqual({ issues: [{ message: 'the dataset has no items' }] });
    const many = Array.from({ length: 1001 }, () => ({ input: 'q', expected: 'a', match: 'exact' }));
    expect('issues' in validateDataset({ name: 'x', items: many })).toBe(true);
  });
});

describe('configurations', () => {
  it('reads single-shot, rlm and capsule overrides', () => {
    expect(parseConfiguration('single-shot')).toEqual({ configuration: { name: 'single-shot', capsule: { rlm_enabled: false } } });
    expect(parseConfiguration('rlm:threshold=0.8:max_iterations=3:temperature=0.7')).toEqual({
      configuration: { name: 'rlm:threshold=0.8:max_iterations=3:temperature=0.7', capsule: { rlm_enabled: true, rlm_convergence_threshold: 0.8, rlm_max_iterations: 3, learning_config: { temperature: 0.7 } } },
    });
  });
  it('refuses unknown bases, keys and out-of-range values, and duplicates', () => {
    expect(parseConfiguration('best')).toMatchObject({ error: expect.stringContaining('single-shot or rlm') });
    expect(parseConfiguration('rlm:model=openai:gpt-4o')).toMatchObject({ error: expect.stringContaining('is not one of') });
    expect(parseConfiguration('rlm:threshold=2')).toMatchObject({ error: expect.stringContaining('from 0 to 1') });
    expect(parseConfiguration('rlm:max_iterations=2.5')).toMatchObject({ error: expect.stringContaining('whole number') });
    expect(parseConfiguration('rlm:min_iterations=4:max_iterations=2')).toMatchObject({ error: expect.stringContaining('exceeds') });
    expect(parseConfigurations(['rlm', 'rlm'])).toMatchObject({ error: expect.stringContaining('twice') });
  });
});

describe('summariseRun', () => {
  it('gives n, accuracy, mean iterations, exit reasons, total tokens and latency percentiles', () => {
    const outcomes = [1, 2, 3, 4].map((k) => ({ correct: k !== 2, iterations: k, exitReason: k === 4 ? 'max_iterations' : 'converged', tokens: 10 * k, latencyMs: 100 * k }));
    expect(summariseRun('rlm', outcomes)).toEqual({ name: 'rlm', n: 4, accuracy: 0.75, mean_iterations: 2.5, exit_reasons: { converged: 3, max_iterations: 1 }, tokens: 100, p50_ms: 250, p95_ms: 385 });
    expect(quantile([], 0.5)).toBe(0);
    expect(summariseRun('empty', [])).toMatchObject({ n: 0, accuracy: 0 });
  });
});
