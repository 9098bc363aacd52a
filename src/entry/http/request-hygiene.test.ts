import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCleanText, jsonTextProblem } from './request-hygiene.js';

/** Whether every string and key of a JSON value is clean text (the slow, recursive way). */
const allClean = (value: unknown): boolean =>
  typeof value === 'string' ? isCleanText(value) : Array.isArray(value) ? value.every(allClean) : value !== null && typeof value === 'object' ? Object.entries(value).every(([k, v]) => isCleanText(k) && allClean(v)) : true;

describe('jsonTextProblem', () => {
  it('agrees with a recursive check on any JSON value, including NUL, lone and paired surrogates', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6, stringUnit: 'binary' }), (value) => {
        const text = JSON.stringify(value);
        expect(jsonTextProblem(text) === undefined).toBe(allClean(value));
      }),
      { numRuns: 500 },
    );
    expect(jsonTextProblem('{"a":"😀","b":"\\ud83d\\ude00","c":"\\\\u0000 is text"}')).toBeUndefined();
  });

  it('finds NUL and unpaired surrogates, raw or escaped, in values and keys', () => {
    expect(jsonTextProblem('{"a":"x\\u0000"}')).toMatch(/NUL/);
    expect(jsonTextProblem('{"a\\u0000":1}')).toMatch(/NUL/);
    expect(jsonTextProblem('["\\ud800"]')).toMatch(/surrogate/);
    expect(jsonTextProblem('["\\ud800\\u0041"]')).toMatch(/surrogate/);
    expect(jsonTextProblem('["\\udc00"]')).toMatch(/surrogate/);
    expect(jsonTextProblem(`["\ud800x"]`)).toMatch(/surrogate/);
    expect(jsonTextProblem(`["x\u0000"]`)).toMatch(/NUL/);
  });

  it('counts nesting outside strings only, without recursion', () => {
    expect(jsonTextProblem(`${'['.repeat(32)}${']'.repeat(32)}`)).toBeUndefined();
    expect(jsonTextProblem(`${'['.repeat(33)}${']'.repeat(33)}`)).toMatch(/deeper than 32/);
    expect(jsonTextProblem(`["${'['.repeat(100)}"]`)).toBeUndefined();
    expect(jsonTextProblem(`${'{"a":'.repeat(1_000_000)}1${'}'.repeat(1_000_000)}`)).toMatch(/deeper than 32/);
  });
});
