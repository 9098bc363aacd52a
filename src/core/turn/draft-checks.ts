import { memoized } from '../../shared/bounded-memo.js';

/**
 * Checks of one draft that need no model: signals from outside the model that the draft is not an
 * answer yet (SPEC §13.3 "no false convergence"). A draft that fails one scores 0, can neither
 * converge nor be `llm_completed`, and the next iteration's refine instruction names the failure.
 * `scorer_failed` is the capsule's own scorer (`learning_config.scorer`) scoring the draft below
 * {@link SCORER_PASS_SCORE}; the loop adds it ({@link draftDefects} checks only what needs no scorer).
 */
export type DraftDefect = 'truncated' | 'echo' | 'empty' | 'tool_result_unused' | 'scorer_failed';

/** A capsule scorer's score below this fails the draft (regex and JSON Schema scorers give 0 or 1, a judge 0–1). */
export const SCORER_PASS_SCORE = 0.5;

export interface DraftCheckInput {
  /** The draft's text (self-assessment markers removed). */
  text: string;
  /** The provider's finish reason; `length` = cut off by the output limit. */
  finishReason: string;
  /** The draft asked for tools (an empty text is then not a defect: the answer comes after the results). */
  toolCallsPending: boolean;
  /** The capsule's system prompt (not the memories that share its message). */
  systemPrompt: string;
  userMessage: string;
  /** Numbers the turn's successful tool calls returned so far (e.g. the calculator's result). */
  numericToolResults: readonly number[];
}

/** The defects of a draft, in a fixed order (empty list = passes every check). */
export function draftDefects(input: DraftCheckInput): DraftDefect[] {
  const defects: DraftDefect[] = [];
  if (input.finishReason === 'length') defects.push('truncated');
  if (input.toolCallsPending) return defects;
  if (input.text.trim() === '') {
    defects.push('empty');
    return defects;
  }
  if (isPromptEcho(input.text, { systemPrompt: input.systemPrompt, userMessage: input.userMessage })) defects.push('echo');
  if (input.numericToolResults.length > 0 && !mentionsAny(input.text, input.numericToolResults)) defects.push('tool_result_unused');
  return defects;
}

function words(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]+/gu, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** The last few prompts' word lists and system runs: a turn checks every draft against the same two texts. */
const promptWords = new Map<string, string[]>();
const systemRunSets = new Map<string, Set<string>>();

const wordsOf = (text: string): readonly string[] => memoized(promptWords, text, 64, words);
const systemRunsOf = (text: string): ReadonlySet<string> => memoized(systemRunSets, text, 64, (t) => ngrams(words(t), SYSTEM_ECHO_RUN));

function ngrams(list: readonly string[], n: number): Set<string> {
  const grams = new Set<string>();
  for (let i = 0; i + n <= list.length; i++) grams.add(list.slice(i, i + n).join(' '));
  return grams;
}

/** Length of a copied run of the system prompt that marks an echo. */
export const SYSTEM_ECHO_RUN = 8;
/** Share of the draft's words inside 4-word runs copied from the user message that marks an echo. */
export const USER_ECHO_COVERAGE = 0.9;
/** Words of its own an echo of the user message may add. */
export const USER_ECHO_NOVEL_WORDS = 2;

/**
 * A draft that mostly repeats the prompt: it copies a run of {@link SYSTEM_ECHO_RUN} words of the
 * system prompt, or at least {@link USER_ECHO_COVERAGE} of its words lie in 4-word runs copied from the
 * user message (runs of the whole message when it is shorter) and it adds at most {@link USER_ECHO_NOVEL_WORDS} words of its own. Restating the
 * question inside an answer ("The capital of France is Paris.") is not an echo.
 */
export function isPromptEcho(draft: string, { systemPrompt, userMessage }: { systemPrompt: string; userMessage: string }): boolean {
  const answer = words(draft);
  if (answer.length === 0) return false;
  const systemRuns = systemRunsOf(systemPrompt);
  if (systemRuns.size > 0) {
    for (let i = 0; i + SYSTEM_ECHO_RUN <= answer.length; i++) if (systemRuns.has(answer.slice(i, i + SYSTEM_ECHO_RUN).join(' '))) return true;
  }
  const user = wordsOf(userMessage);
  // Runs of 4 words (of the whole message when it is shorter).
  const n = Math.min(4, user.length);
  if (n === 0 || answer.length < n) return false;
  const userRuns = ngrams(user, n);
  const covered = new Array<boolean>(answer.length).fill(false);
  for (let i = 0; i + n <= answer.length; i++) {
    if (userRuns.has(answer.slice(i, i + n).join(' '))) for (let j = i; j < i + n; j++) covered[j] = true;
  }
  const coverage = covered.filter(Boolean).length / answer.length;
  const userWords = new Set(user);
  const novel = answer.filter((w) => !userWords.has(w)).length;
  return coverage >= USER_ECHO_COVERAGE && novel <= USER_ECHO_NOVEL_WORDS;
}

/** Numbers written in a text: `56,088` reads as 56088, `-3.5` as −3.5. */
export function numbersIn(text: string): number[] {
  const joined = text.replace(/(\d)[,\u00a0\u202f](?=\d{3}(?!\d))/g, '$1');
  return [...joined.matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));
}

/** Whether `a` and `b` are the same number up to a relative 1e-6 (or written rounded to 2 decimals). */
export function sameNumber(a: number, b: number): boolean {
  if (Math.abs(a - b) <= Math.max(1e-9, Math.abs(b) * 1e-6)) return true;
  return !Number.isInteger(b) && Math.abs(a - Math.round(b * 100) / 100) <= 1e-9;
}

function mentionsAny(text: string, values: readonly number[]): boolean {
  const found = numbersIn(text);
  return values.some((value) => found.some((n) => sameNumber(n, value)));
}

/** The numbers among tool results (`{result: 42}`, `42`, `"42"`), for the tool-result check. */
export function numericResultsOf(results: readonly { ok: boolean; result?: unknown }[]): number[] {
  const out: number[] = [];
  for (const r of results) {
    if (!r.ok) continue;
    const value = typeof r.result === 'object' && r.result !== null && 'result' in r.result ? (r.result as { result: unknown }).result : r.result;
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : Number.NaN;
    if (Number.isFinite(n)) out.push(n);
  }
  return out;
}
