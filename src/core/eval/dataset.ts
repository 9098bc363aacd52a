import { z } from 'zod';

/** How an answer is compared with the expected one (SPEC §13.3; `judge` needs the operator's judge model). */
export const matchKinds = ['exact', 'contains', 'regex', 'number', 'judge'] as const;
export type MatchKind = (typeof matchKinds)[number];

/** Limits of a dataset (it may come from a tenant over `POST /v1/evals`). */
export const datasetLimits = { items: 1000, inputChars: 4000, expectedChars: 1000, regexChars: 200, memories: 50, memoryChars: 2000, tags: 10 } as const;

const memory = z.object({
  key: z.string().min(1).max(200).optional(),
  content: z.string().min(1).max(datasetLimits.memoryChars),
  importance: z.number().min(0).max(1).optional(),
});

/** One line of a dataset: a question, what a right answer contains, how to compare, and what the capsule remembers. */
export const evalItemSchema = z
  .object({
    id: z.string().min(1).max(100).optional(),
    input: z.string().trim().min(1).max(datasetLimits.inputChars),
    expected: z.union([z.string().max(datasetLimits.expectedChars), z.number()]),
    match: z.enum(matchKinds),
    /** `number`: the largest accepted absolute difference (default 1e-6 · max(1, |expected|)). */
    tolerance: z.number().min(0).optional(),
    tags: z.array(z.string().min(1).max(50)).max(datasetLimits.tags).optional(),
    /** Memories the capsule is given before this item's turn (remembered through the brain). */
    memories: z.array(memory).max(datasetLimits.memories).optional(),
  })
  .strict()
  .superRefine((item, ctx) => {
    if (item.match === 'number' && !Number.isFinite(Number(item.expected))) ctx.addIssue({ code: 'custom', path: ['expected'], message: 'a number item needs a numeric expected value' });
    if (item.match === 'regex') {
      const pattern = String(item.expected);
      if (pattern.length > datasetLimits.regexChars) ctx.addIssue({ code: 'custom', path: ['expected'], message: `a regex is at most ${datasetLimits.regexChars} characters` });
      try {
        new RegExp(pattern, 'iu');
      } catch {
        ctx.addIssue({ code: 'custom', path: ['expected'], message: 'expected is not a valid regular expression' });
      }
    }
  });

/** The optional first line `{"setup": {…}}`: the capsule every item of the dataset runs in. */
export const evalSetupSchema = z
  .object({
    name: z.string().min(1).max(100).optional(),
    system_prompt: z.string().min(1).max(8000).optional(),
    /** Built-in tools of the capsule (e.g. `["calculator"]`). */
    tools: z.array(z.string().min(1).max(100)).max(16).optional(),
    /** Memories every item's capsule is given. */
    memories: z.array(memory).max(datasetLimits.memories).optional(),
  })
  .strict();

export type EvalItem = z.infer<typeof evalItemSchema>;
export type EvalSetup = z.infer<typeof evalSetupSchema>;
export interface EvalDataset {
  name: string;
  setup: EvalSetup;
  items: EvalItem[];
}

/** A dataset error: of the item at `item` (0-based), else of the setup or the whole dataset. */
export interface DatasetIssue {
  item?: number;
  message: string;
}

/** Validates a dataset already split into values (the JSON body of `POST /v1/evals`). */
export function validateDataset({ name, setup, items }: { name: string; setup?: unknown; items: readonly unknown[] }): { dataset: EvalDataset } | { issues: DatasetIssue[] } {
  const issues: DatasetIssue[] = [];
  const parsedSetup = setup === undefined ? { success: true as const, data: {} } : evalSetupSchema.safeParse(setup);
  if (!parsedSetup.success) issues.push({ message: `setup: ${describe(parsedSetup.error)}` });
  if (items.length === 0) issues.push({ message: 'the dataset has no items' });
  if (items.length > datasetLimits.items) issues.push({ message: `a dataset has at most ${datasetLimits.items} items` });
  const parsed: EvalItem[] = [];
  items.slice(0, datasetLimits.items).forEach((value, index) => {
    const item = evalItemSchema.safeParse(value);
    if (item.success) parsed.push(item.data);
    else issues.push({ item: index, message: describe(item.error) });
  });
  if (issues.length > 0) return { issues: issues.slice(0, 20) };
  return { dataset: { name, setup: parsedSetup.success ? parsedSetup.data : {}, items: parsed } };
}

/**
 * Reads a JSONL dataset: one JSON object per line (blank lines and lines starting with `//` are
 * skipped); an optional first object `{"setup": {…}}`; every other line an item. `name` is the
 * eval's name (the file name without `.jsonl`). Issues name their line (1-based).
 */
export function parseDataset(name: string, text: string): { dataset: EvalDataset } | { issues: { line: number; message: string }[] } {
  const values: { line: number; value: unknown }[] = [];
  const bad: { line: number; message: string }[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('//')) return;
    try {
      values.push({ line: index + 1, value: JSON.parse(line) });
    } catch {
      bad.push({ line: index + 1, message: 'not a JSON object' });
    }
  });
  if (bad.length > 0) return { issues: bad };
  const first = values[0];
  const hasSetup = typeof first?.value === 'object' && first.value !== null && 'setup' in first.value;
  const itemLines = hasSetup ? values.slice(1) : values;
  const result = validateDataset({ name, setup: hasSetup ? (first!.value as { setup: unknown }).setup : undefined, items: itemLines.map((v) => v.value) });
  if ('dataset' in result) return result;
  return { issues: result.issues.map((issue) => ({ line: issue.item === undefined ? (first?.line ?? 1) : itemLines[issue.item]!.line, message: issue.message })) };
}

function describe(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`).join('; ');
}
