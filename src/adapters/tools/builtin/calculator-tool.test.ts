import { afterAll, describe, expect, it } from 'vitest';
import { calculatorLimits, calculatorWorkerCount, closeCalculatorWorkers, createCalculatorTool } from './calculator-tool.js';

const tool = createCalculatorTool({ capability: { name: 'calculator', kind: 'builtin', enabled: true } });
const context = { tenantId: 't', capsuleId: 'c', userId: 'u', turnId: 'turn', iteration: 0, signal: new AbortController().signal };
const calc = (expression: string) => tool.execute({ expression }, context);

afterAll(() => closeCalculatorWorkers());

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

  it('reads "p% of x" as a percentage of x', async () => {
    expect(await calc('15% of 260')).toEqual({ result: 39 });
    expect(await calc('20% * 350')).toEqual({ result: 70 });
  });

  it('reports syntax errors and unknown symbols', async () => {
    await expect(calc('6*')).rejects.toThrow();
    await expect(calc('foo + 1')).rejects.toThrow(/Undefined symbol foo/);
  });

  it('has a JSON schema requiring an expression', () => {
    expect(tool.definition).toMatchObject({ name: 'calculator', inputSchema: { type: 'object', required: ['expression'] } });
  });
});

/** Counts timer ticks while `run` is pending: proof that the event loop stayed free. */
async function ticksDuring<T>(run: () => Promise<T>): Promise<{ value: T | Error; ticks: number; ms: number }> {
  let ticks = 0;
  const timer = setInterval(() => (ticks += 1), 20);
  const started = performance.now();
  try {
    const value = await run().catch((error: Error) => error);
    return { value, ticks, ms: performance.now() - started };
  } finally {
    clearInterval(timer);
  }
}

describe('calculator: bounded in a worker', () => {
  it('starts no worker until the first calculation', async () => {
    await closeCalculatorWorkers();
    createCalculatorTool({ capability: { name: 'calculator', kind: 'builtin', enabled: true } });
    expect(await calculatorWorkerCount()).toBe(0);
    await calc('1+1');
    expect(await calculatorWorkerCount()).toBeGreaterThan(0);
  });

  it('zeros(30000,30000) is a tool error within the timeout while the event loop keeps ticking', async () => {
    const signal = AbortSignal.timeout(10_000);
    const { value, ticks, ms } = await ticksDuring(() => tool.execute({ expression: 'zeros(30000,30000)' }, { ...context, signal }));
    expect(value).toBeInstanceOf(Error);
    expect((value as Error).message).toMatch(/needs more than 128 MB of memory|stopped/);
    expect(ms).toBeLessThan(10_000 + 1_000);
    expect(ticks).toBeGreaterThanOrEqual(Math.min(5, Math.floor(ms / 40)));
    // The calculator still works afterwards (the worker that ran out of memory was replaced).
    expect(await calc('6*7')).toEqual({ result: 42 });
  });

  it('a runaway calculation is stopped when its signal aborts: the worker is terminated, not abandoned', async () => {
    // About 250 s of CPU in one worker, with almost no memory.
    const runaway = 'sum(map(ones(1000), f(x) = isPrime(2^52-47)))';
    const { value, ticks, ms } = await ticksDuring(() => tool.execute({ expression: runaway }, { ...context, signal: AbortSignal.timeout(1_000) }));
    expect((value as Error).message).toBe('the calculation was stopped');
    expect(ms).toBeLessThan(5_000);
    expect(ticks).toBeGreaterThanOrEqual(10);
    // A terminated worker uses no more CPU: the process stays nearly idle afterwards.
    const before = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const used = process.cpuUsage(before);
    expect((used.user + used.system) / 1000).toBeLessThan(500);
    expect(await calc('2+2')).toEqual({ result: 4 });
  });

  it('no calculation holds a worker longer than maxRunMs, whatever the capability timeout', async () => {
    const saved = calculatorLimits.maxRunMs;
    calculatorLimits.maxRunMs = 500;
    try {
      const error = await calc('sum(map(ones(1000), f(x) = isPrime(2^52-47)))').catch((e: Error) => e);
      expect((error as Error).message).toBe('the calculation took longer than 0.5 s and was stopped');
    } finally {
      calculatorLimits.maxRunMs = saved;
    }
  });
});
