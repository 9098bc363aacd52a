import { describe, expect, it } from 'vitest';
import { createCalculatorTool } from './calculator-tool.js';

const tool = createCalculatorTool({ capability: { name: 'calculator', kind: 'builtin', enabled: true } });
const context = { tenantId: 't', capsuleId: 'c', userId: 'u', turnId: 'turn', iteration: 0, signal: new AbortController().signal };
const calc = (expression: string) => tool.execute({ expression }, context);

describe('calculator', () => {
  it('computes 6*7 = 42', async () => {
    expect(await calc('6*7')).toEqual({ result: 42 });
  });

  it('handles functions, units, matrices and complex numbers', async () => {
    expect(await calc('sqrt(16) + 2^3')).toEqual({ result: 12 });
    expect(await calc('2 inch to cm')).toEqual({ result: '5.08 cm' });
    expect(await calc('[1, 2] * 2')).toEqual({ result: '[2, 4]' });
    expect(await calc('sqrt(-4)')).toEqual({ result: '2i' });
    expect(await calc('1/0')).toEqual({ result: 'Infinity' });
    expect(await calc('3 > 2')).toEqual({ result: true });
  });

  it.each(['import({a: 1})', 'evaluate("1+1")', 'createUnit("foo")', 'parse("1")', 'simplify("x+x")', 'derivative("x^2", "x")', 'compile("1")'])(
    'refuses %s',
    async (expression) => {
      await expect(calc(expression)).rejects.toThrow(/is not available in the calculator/);
    },
  );

  it('reports syntax errors and unknown symbols', async () => {
    await expect(calc('6*')).rejects.toThrow();
    await expect(calc('foo + 1')).rejects.toThrow(/Undefined symbol foo/);
  });

  it('has a JSON schema requiring an expression', () => {
    expect(tool.definition).toMatchObject({ name: 'calculator', inputSchema: { type: 'object', required: ['expression'] } });
  });
});
