import type { Piscina } from 'piscina';
import type { CapabilityConfig, Tool } from '../../../ports/tools.js';
import type { CalculatorAnswer, CalculatorTask } from './calculator-worker.js';

/** Limits of the calculator's workers: CPU-bound work never runs on the event loop (SPEC §13.1). */
export interface CalculatorLimits {
  /** Workers at most (each holds its own mathjs). */
  maxThreads: number;
  /** A worker with nothing to do exits after this long (idle memory matters). */
  idleTimeoutMs: number;
  /** Heap cap of a worker; an expression that needs more is a tool error, the worker is replaced. */
  maxHeapMb: number;
  /** Calculations waiting for a worker at most; more are refused at once. */
  maxQueue: number;
  /** Longest calculation, whatever the capability's timeout: one tenant cannot hold a worker longer. */
  maxRunMs: number;
}

/** One worker (about 90 MB with mathjs loaded), gone after 30 s idle; 128 MB heap; 10 s per calculation. */
export const calculatorLimits: CalculatorLimits = { maxThreads: 1, idleTimeoutMs: 30_000, maxHeapMb: 128, maxQueue: 64, maxRunMs: 10_000 };

/** The worker module next to this one: the compiled `.js` in a build, the `.ts` source otherwise. */
const workerFile = new URL(`./calculator-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

let pool: Promise<Piscina> | undefined;

/** The process's calculator workers, started on the first calculation (Piscina loads then too). */
function calculatorPool(): Promise<Piscina> {
  pool ??= import('piscina').then(
    ({ Piscina: Pool }) =>
      new Pool({
        filename: workerFile,
        minThreads: 0,
        maxThreads: calculatorLimits.maxThreads,
        idleTimeout: calculatorLimits.idleTimeoutMs,
        maxQueue: calculatorLimits.maxQueue,
        resourceLimits: { maxOldGenerationSizeMb: calculatorLimits.maxHeapMb, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
      }),
  );
  return pool;
}

/** Stops the calculator's workers (shutdown); a later calculation starts them again. */
export async function closeCalculatorWorkers(): Promise<void> {
  const running = pool;
  pool = undefined;
  await (await running)?.close({ force: true });
}

/** How many calculator workers are running now. */
export async function calculatorWorkerCount(): Promise<number> {
  return pool ? (await pool).threads.length : 0;
}

/**
 * `calculator {expression}` → `{result}`: arithmetic, functions, matrices and units via mathjs, in a
 * worker thread with a memory cap. The runner's timeout aborts the call's signal, which terminates
 * the worker running it (Piscina), so a runaway expression stops using CPU; other turns go on.
 */
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
      examples: [
        { request: 'What is 31 * 47?', args: { expression: '31 * 47' } },
        { request: 'What is 250 + 175?', args: { expression: '250 + 175' } },
        { request: 'What is 90 divided by 6?', args: { expression: '90 / 6' } },
        { request: 'What is 20% of 350?', args: { expression: '20% * 350' } },
      ],
    },
    async execute(args, context) {
      const { expression } = args as { expression: string };
      let answer: CalculatorAnswer;
      const tooLong = AbortSignal.timeout(calculatorLimits.maxRunMs);
      try {
        answer = (await (await calculatorPool()).run({ expression: percentOf(expression) } satisfies CalculatorTask, { signal: AbortSignal.any([context.signal, tooLong]) })) as CalculatorAnswer;
      } catch (error) {
        if (context.signal.aborted) throw new Error('the calculation was stopped', { cause: error });
        if (tooLong.aborted) throw new Error(`the calculation took longer than ${calculatorLimits.maxRunMs / 1000} s and was stopped`, { cause: error });
        const code = (error as { code?: string }).code;
        if (code === 'ERR_WORKER_OUT_OF_MEMORY') throw new Error(`the expression needs more than ${calculatorLimits.maxHeapMb} MB of memory`, { cause: error });
        if (/queue is full/i.test((error as Error).message)) throw new Error('the calculator is busy; try again later', { cause: error });
        throw new Error(`the calculation failed (${(error as Error).message})`, { cause: error });
      }
      if (!answer.ok) throw new Error(answer.error);
      return { result: answer.value! };
    },
  };
}

/** "15% of 260" is how people (and small models) write a percentage of something: mathjs reads `15% * 260`. */
function percentOf(expression: string): string {
  return expression.replace(/%\s*of\b/gi, '% *');
}
