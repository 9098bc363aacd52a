import { runInNewContext } from 'node:vm';
import { numbersIn } from '../turn/index.js';
import type { EvalItem } from './dataset.js';

/** How long a dataset's regular expression may run on one answer (they may come from a tenant). */
export const REGEX_TIMEOUT_MS = 100;

export interface ItemScore {
  correct: boolean;
  /** What was compared, for the stored result (e.g. the number read from the answer). */
  detail?: string;
}

/** Lower case, NFKC, one space between words, no surrounding quotes or final punctuation. */
export function normaliseAnswer(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^["'“”‘’`*]+|["'“”‘’`*]+$/g, '')
    .replace(/[.!?。]+$/u, '')
    .trim();
}

/**
 * Scores an answer against an item with the deterministic scorers (SPEC §13.3): `exact` (equal after
 * {@link normaliseAnswer}), `contains` (the expected text occurs in the answer, case-insensitive),
 * `regex` (the expected pattern matches, case-insensitive, at most {@link REGEX_TIMEOUT_MS}), `number`
 * (the last number of the answer is within the tolerance of the expected one). `judge` items are
 * scored by the operator's judge model, not here.
 */
export function scoreAnswer(item: Pick<EvalItem, 'expected' | 'match' | 'tolerance'>, answer: string): ItemScore {
  switch (item.match) {
    case 'exact':
      return { correct: normaliseAnswer(answer) === normaliseAnswer(String(item.expected)) };
    case 'contains':
      return { correct: normaliseAnswer(answer).includes(normaliseAnswer(String(item.expected))) };
    case 'regex':
      return matchRegex(String(item.expected), answer);
    case 'number': {
      const expected = Number(item.expected);
      const found = numbersIn(answer);
      const last = found.at(-1);
      if (last === undefined) return { correct: false, detail: 'no number in the answer' };
      const tolerance = item.tolerance ?? 1e-6 * Math.max(1, Math.abs(expected));
      return { correct: Math.abs(last - expected) <= tolerance, detail: `read ${last}` };
    }
    case 'judge':
      throw new Error('judge items are scored by the judge model');
  }
}

/** Runs a dataset's pattern with a time limit: catastrophic backtracking fails the item instead of blocking the process. */
function matchRegex(pattern: string, answer: string): ItemScore {
  try {
    const matched = runInNewContext('new RegExp(pattern, "iu").test(answer)', { pattern, answer }, { timeout: REGEX_TIMEOUT_MS }) as boolean;
    return { correct: matched === true };
  } catch {
    return { correct: false, detail: `the pattern did not finish within ${REGEX_TIMEOUT_MS} ms` };
  }
}

/** The judge model's instruction: it answers YES or NO only. */
export function judgePrompt(item: Pick<EvalItem, 'input' | 'expected'>, answer: string): { system: string; user: string } {
  return {
    system: 'You grade answers. Reply with one word: YES if the answer is correct and agrees with the expected answer, otherwise NO.',
    user: `Question: ${item.input}\nExpected answer: ${String(item.expected)}\nAnswer to grade: ${answer}\nIs the answer correct?`,
  };
}

/** Reads the judge's verdict: the first YES or NO in its reply (anything else is not correct). */
export function readJudgeVerdict(reply: string): ItemScore {
  const verdict = /\b(yes|no)\b/i.exec(reply)?.[1]?.toLowerCase();
  return { correct: verdict === 'yes', detail: `judge: ${verdict ?? 'no verdict'}` };
}
