import type { ToolDefinition } from '../../../ports/chat-model.js';
import { toFunctionParams } from './to-function-params.js';

/**
 * The tool protocol for small local models (SPEC §13.3): before drafting, one short generation
 * constrained by a JSON grammar decides `{"tool": <name>, "args": {…}}` or `{"tool": null}` from a
 * few-shot prompt. Tiny instruction models do not follow the function-calling syntax their chat
 * template documents (SmolLM2-135M never called the calculator that way), but they do fill in this
 * JSON when examples show it. Measured in README "Answers and how they are measured".
 */

/** A decision as parsed from the grammar-constrained JSON. */
export type ToolDecision = { tool: null } | { tool: string; args: Record<string, unknown> };

/** Questions that need no tool, shown as `{"tool": null}` examples between the tools' own examples. */
export const noToolExamples = [
  'Who wrote Pride and Prejudice?',
  'What is the capital of Peru?',
  'How many legs does an ant have?',
  'Summarise in one sentence: Cats sleep a lot.',
] as const;

/** Examples shown per tool (the first ones of its definition). */
const EXAMPLES_PER_TOOL = 4;

export interface DecisionPrompt {
  system: string;
  /** Few-shot pairs: a user message and the JSON the model answers. */
  shots: { user: string; answer: string }[];
}

/** The decision step's system prompt and examples for the offered tools. */
export function decisionPrompt(tools: readonly ToolDefinition[]): DecisionPrompt {
  const lines = tools.map((tool) => `- ${tool.name}: ${tool.description.trim()} Call it as ${spacedJson({ tool: tool.name, args: argsTemplate(tool) })}.`);
  const system = [
    "You decide whether a tool is needed to answer the user's message. Tools:",
    ...lines,
    'Reply with JSON only: the call when the message needs a tool, otherwise {"tool": null}.',
  ].join('\n');
  const toolShots = tools.flatMap((tool) => (tool.examples ?? []).slice(0, EXAMPLES_PER_TOOL).map((e) => ({ user: e.request, answer: spacedJson({ tool: tool.name, args: e.args }) })));
  const nullShots = noToolExamples.map((user) => ({ user, answer: spacedJson({ tool: null }) }));
  const shots: DecisionPrompt['shots'] = [];
  for (let i = 0; i < Math.max(toolShots.length, nullShots.length); i++) {
    if (toolShots[i]) shots.push(toolShots[i]!);
    if (nullShots[i]) shots.push(nullShots[i]!);
  }
  return { system, shots };
}

/** One-line JSON with a space after `:` and `,`, as people (and the examples models learnt from) write it. */
function spacedJson(value: unknown): string {
  return JSON.stringify(value, null, 1).replace(/\n\s*/g, ' ').replace(/\{ /g, '{').replace(/ \}/g, '}').replace(/\[ /g, '[').replace(/ \]/g, ']');
}

/** `{"expression": "<expression>"}`: the required properties of a tool's arguments as placeholders. */
function argsTemplate(tool: ToolDefinition): Record<string, string> {
  const schema = tool.inputSchema as { properties?: Record<string, unknown>; required?: string[] };
  const names = schema.required ?? Object.keys(schema.properties ?? {});
  return Object.fromEntries(names.map((name) => [name, `<${name}>`]));
}

/** Longest string argument of a decision: a runaway repetition ("13*17*1*1*1…") ends there instead of running out of tokens. */
export const DECISION_STRING_CHARS = 120;

/** Caps every string's `maxLength` at {@link DECISION_STRING_CHARS}. */
function capStrings(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(capStrings);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) out[key] = key === 'const' || key === 'enum' ? value : capStrings(value);
  const types = ([] as unknown[]).concat(out.type ?? []);
  if (types.includes('string')) out.maxLength = Math.min(Number(out.maxLength ?? DECISION_STRING_CHARS), DECISION_STRING_CHARS);
  return out;
}

/** The JSON Schema of a decision: one alternative per tool (its arguments' schema narrowed for the grammar), or null. */
export function decisionSchema(tools: readonly ToolDefinition[]): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  const alternatives = tools.map((tool) => {
    const { $defs, ...args } = capStrings(toFunctionParams(tool.inputSchema)) as Record<string, unknown> & { $defs?: Record<string, unknown> };
    Object.assign(defs, $defs ?? {});
    return { type: 'object', properties: { tool: { const: tool.name }, args }, required: ['tool', 'args'] };
  });
  return {
    ...(Object.keys(defs).length > 0 ? { $defs: defs } : {}),
    oneOf: [...alternatives, { type: 'object', properties: { tool: { type: 'null' } }, required: ['tool'] }],
  };
}

/** Numbers in a text; a thousands separator (`56,088`) does not split one. */
function numbers(text: string): number[] {
  return [...text.replace(/(\d),(?=\d{3}(?!\d))/g, '$1').matchAll(/\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));
}

const key = (n: number) => Math.round(n * 1e9) / 1e9;

/**
 * Argument grounding, a check on the decision from outside the model: every number in the call's
 * arguments must occur in the question (a percentage p may appear as p/100), and when every example
 * of the tool has a number in its arguments, the call must have one too. A tiny model otherwise
 * copies an example's call ("31*47") for questions that need no tool. An ungrounded call is dropped.
 */
export function isGrounded(decision: { tool: string; args: unknown }, question: string, tool: ToolDefinition | undefined): boolean {
  const used = numbers(JSON.stringify(decision.args ?? {}));
  const inQuestion = numbers(question);
  const allowed = new Set([...inQuestion, ...inQuestion.map((n) => n / 100)].map(key));
  if (!used.every((n) => allowed.has(key(n)))) return false;
  const examples = tool?.examples ?? [];
  const examplesNeedNumbers = examples.length > 0 && examples.every((e) => numbers(JSON.stringify(e.args)).length > 0);
  return !examplesNeedNumbers || used.length > 0;
}

/**
 * Whether any call of `tool` could pass {@link isGrounded} for this question: not when every example
 * of the tool has a number in its arguments and the question has none. When no offered tool could,
 * the decision step is skipped — its call would be dropped anyway — which saves its prompt on a
 * question like "What is the capital of France?" (seconds on a first call, on one CPU thread).
 */
export function couldBeGrounded(question: string, tool: ToolDefinition): boolean {
  const examples = tool.examples ?? [];
  const examplesNeedNumbers = examples.length > 0 && examples.every((e) => numbers(JSON.stringify(e.args)).length > 0);
  return !examplesNeedNumbers || numbers(question).length > 0;
}

/**
 * Reads the grammar's JSON; anything else (a decision cut off by its token limit) is "no tool". A
 * string argument written as an equation with a guessed result (`"15*24 = 375"`) keeps its left side
 * when none of the tool's examples has an `=`: small models append the result they guess.
 */
export function parseDecision(text: string, tools: readonly ToolDefinition[]): ToolDecision {
  try {
    const value = JSON.parse(text) as { tool?: unknown; args?: unknown };
    const tool = tools.find((t) => t.name === value.tool);
    if (tool) {
      const args = value.args && typeof value.args === 'object' ? (value.args as Record<string, unknown>) : {};
      const examplesHaveEquals = (tool.examples ?? []).some((e) => JSON.stringify(e.args).includes('='));
      return { tool: tool.name, args: examplesHaveEquals ? args : withoutGuessedResults(args) };
    }
  } catch {
    /* not JSON: no tool */
  }
  return { tool: null };
}

function withoutGuessedResults(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).map(([key, value]) => [key, typeof value === 'string' ? value.replace(/^(.*?\S)\s*=\s*-?[\d.,]+(?:\s*[\p{L}%]+)?\s*$/su, '$1') : value]));
}
