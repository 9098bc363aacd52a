// The calculator's worker: runs in a Piscina worker thread with a memory cap (see calculator-tool.ts).
// Only erasable TypeScript, so Node loads the source as it is (type stripping) when Soma runs from the
// sources, whatever loader the main thread uses; the build compiles it next to calculator-tool.js.
import { all, create } from 'mathjs';

/** One calculation sent to the worker. */
export interface CalculatorTask {
  expression: string;
}

/** The worker's answer: a value, or the message of an expected failure (syntax, unknown symbol, …). */
export interface CalculatorAnswer {
  ok: boolean;
  value?: number | boolean | string;
  error?: string;
}

/** mathjs functions that could run code, define things or recurse into the parser: never exposed. */
const disabledFunctions = [
  'import', 'createUnit', 'evaluate', 'parse', 'simplify', 'derivative',
  'compile', 'parser', 'resolve', 'rationalize', 'symbolicEqual', 'chain', 'reviver', 'replacer',
];

const math = create(all!);
const evaluate = math.evaluate.bind(math);
math.import(
  Object.fromEntries(
    disabledFunctions.map((name) => [
      name,
      () => {
        throw new Error(`function ${name} is not available in the calculator`);
      },
    ]),
  ),
  { override: true },
);

/** Evaluates one expression: a number, a boolean or mathjs's formatted text, or an error message. */
export default function calculate({ expression }: CalculatorTask): CalculatorAnswer {
  try {
    const value: unknown = evaluate(expression);
    if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value };
    if (typeof value === 'boolean') return { ok: true, value };
    if (typeof value === 'function') return { ok: false, error: 'the expression defines a function instead of computing a value' };
    if (value === undefined) return { ok: false, error: 'the expression has no value' };
    const text = math.format(value, { precision: 14 });
    if (text.length > 100_000) return { ok: false, error: `the result is too large to return (${text.length} characters)` };
    return { ok: true, value: text };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
