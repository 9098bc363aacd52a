import type { FactoryFunctionMap } from 'mathjs';
import type { CapabilityConfig, Tool } from '../../../ports/tools.js';

/** mathjs functions that could run code, define things or recurse into the parser: never exposed. */
const disabledFunctions = [
  'import', 'createUnit', 'evaluate', 'parse', 'simplify', 'derivative',
  'compile', 'parser', 'resolve', 'rationalize', 'symbolicEqual', 'chain', 'reviver', 'replacer',
] as const;

interface RestrictedMath {
  evaluate: (expression: string) => unknown;
  format: (value: unknown) => string;
}

let shared: Promise<RestrictedMath> | undefined;

/**
 * One restricted mathjs instance per process, loaded on first use (mathjs is large: importing it
 * eagerly would cost every Soma process ~100 MB before any calculation).
 */
function restrictedMath(): Promise<RestrictedMath> {
  shared ??= import('mathjs').then(({ all, create }) => restrictedEvaluate(create(all as FactoryFunctionMap)));
  return shared;
}

/** A mathjs instance with the dangerous functions replaced by ones that throw; returns its evaluator. */
function restrictedEvaluate(math: ReturnType<typeof import('mathjs')['create']>): RestrictedMath {
  const evaluate = math.evaluate.bind(math);
  const format = (value: unknown) => math.format(value, { precision: 14 });
  const disabled = Object.fromEntries(
    disabledFunctions.map((name) => [name, () => { throw new Error(`function ${name} is not available in the calculator`); }]),
  );
  math.import(disabled, { override: true });
  return { evaluate: (expression) => evaluate(expression) as unknown, format };
}

/** `calculator {expression}` → `{result}`: arithmetic, functions, matrices and units via mathjs. */
export function createCalculatorTool({ capability }: { capability: CapabilityConfig }): Tool {
  return {
    capability,
    definition: {
      name: capability.name,
      description:
        capability.description ??
        'Evaluates a mathematical expression (arithmetic, functions like sqrt/sin/log, matrices, unit conversions such as "2 inch to cm") and returns the result.',
      inputSchema: {
        type: 'object',
        properties: { expression: { type: 'string', minLength: 1, maxLength: 1000, description: 'The expression, e.g. "6*7" or "sqrt(2)^2"' } },
        required: ['expression'],
        additionalProperties: false,
      },
    },
    async execute(args) {
      const { expression } = args as { expression: string };
      const math = await restrictedMath();
      const value = math.evaluate(expression);
      if (typeof value === 'number' && Number.isFinite(value)) return { result: value };
      if (typeof value === 'boolean') return { result: value };
      if (typeof value === 'function') throw new Error('the expression defines a function instead of computing a value');
      if (value === undefined) throw new Error('the expression has no value');
      return { result: math.format(value) };
    },
  };
}
