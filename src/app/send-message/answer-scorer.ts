import { Ajv } from 'ajv';
import { RE2JS } from 're2js';
import type { ScorerConfig } from '../../core/learning/index.js';
import type { ModelStreamPart } from '../../ports/chat-model.js';
import type { Failure } from '../../shared/errors.js';
import { ok, refuse, type Result } from '../../shared/result.js';
import type { AppContext } from '../context.js';
import type { AnswerScorer } from '../turn/index.js';

/** How long a judge model may take to score one draft. */
const JUDGE_TIMEOUT_MS = 15_000;

const flagsOf = (flags = '') => (flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0) | (flags.includes('m') ? RE2JS.MULTILINE : 0) | (flags.includes('s') ? RE2JS.DOTALL : 0);

/** A `RegExp` stand-in over RE2 (linear time), for JSON Schema `pattern`s a tenant writes. */
function re2(pattern: string, flags?: string) {
  const compiled = RE2JS.compile(pattern, flagsOf(flags));
  return { test: (text: string) => compiled.matcher(text).find() };
}
re2.code = 're2js';

/** The answer as JSON: the whole draft, or its first fenced ```json block. */
function jsonOf(answer: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(answer)?.[1];
  for (const text of [answer.trim(), fenced?.trim()]) {
    if (text === undefined) continue;
    try {
      return JSON.parse(text);
    } catch {
      /* not JSON */
    }
  }
  return undefined;
}

/**
 * The capsule's scorer (SPEC §13.2), built for one turn: a regex (RE2 — a tenant's pattern cannot
 * backtrack for ever) or JSON Schema check of the answer scores 1 or 0; a judge — one of the judges the
 * operator configured in `SOMA_JUDGE_MODELS`, by name; a tenant never names a model or file itself —
 * answers a number from 0 to 1. An invalid pattern or schema, or an unknown judge, is VALIDATION_FAILED.
 * Each says what a failing draft missed (the pattern, the schema, the grade) for the refine step.
 */
export function createAnswerScorer(ctx: Pick<AppContext, 'models' | 'settings'>, scorer: ScorerConfig | undefined): Result<AnswerScorer | undefined, Failure> {
  if (!scorer) return ok(undefined);
  if (scorer.type === 'regex') {
    let pattern: ReturnType<typeof re2>;
    try {
      pattern = re2(scorer.pattern, scorer.flags);
    } catch (cause) {
      return refuse('VALIDATION_FAILED', `learning_config.scorer.pattern is not a valid RE2 pattern: ${(cause as Error).message}`);
    }
    const flags = scorer.flags ? ` (flags ${scorer.flags})` : '';
    return ok(withFeedback(async ({ answer }) => (pattern.test(answer) ? 1 : 0), () => `Your answer did not pass the answer check: it must match the regular expression ${clip(scorer.pattern)}${flags}.`));
  }
  if (scorer.type === 'json_schema') {
    let validate: (data: unknown) => boolean;
    try {
      validate = new Ajv({ strict: false, allErrors: false, code: { regExp: re2 as never } }).compile(scorer.schema);
    } catch (cause) {
      return refuse('VALIDATION_FAILED', `learning_config.scorer.schema is not a valid JSON Schema: ${(cause as Error).message}`);
    }
    return ok(
      withFeedback(
        async ({ answer }) => {
          const value = jsonOf(answer);
          return value !== undefined && validate(value) ? 1 : 0;
        },
        () => `Your answer did not pass the answer check: it must be JSON valid against this JSON Schema: ${clip(JSON.stringify(scorer.schema))}`,
      ),
    );
  }
  const spec = ctx.settings.judges?.[scorer.judge];
  if (!spec) return refuse('VALIDATION_FAILED', `learning_config.scorer.judge "${scorer.judge}" is not one of this server's judges (${Object.keys(ctx.settings.judges ?? {}).join(', ') || 'none configured'})`);
  const judged: AnswerScorer = async ({ answer, userMessage }) => {
    const model = ctx.models.get(spec);
    const messages = [
      { role: 'system' as const, content: 'You grade an assistant\'s answer. Reply with one number from 0 (wrong or useless) to 1 (correct and helpful), nothing else.' },
      { role: 'user' as const, content: `Question:\n${userMessage}\n\nAnswer:\n${answer}` },
    ];
    let text = '';
    for await (const part of model.stream({ messages, tools: [], temperature: 0, maxOutputTokens: 8, signal: AbortSignal.timeout(JUDGE_TIMEOUT_MS) }) as AsyncIterable<ModelStreamPart>) {
      if (part.type === 'finish') text = part.output.text;
    }
    const number = /(?:^|[^\d.])(1(?:\.0+)?|0(?:\.\d+)?|\.\d+)(?![\d.])/.exec(` ${text}`)?.[1];
    return number === undefined ? null : Math.min(1, Math.max(0, Number(number)));
  };
  return ok(withFeedback(judged, (score) => `Your answer did not pass the answer check: a grader rated it ${Math.round(score * 100) / 100} out of 1.`));
}

/** Longest scorer text (pattern, schema) the refine step quotes. */
const FEEDBACK_CHARS = 600;

function clip(text: string): string {
  return text.length <= FEEDBACK_CHARS ? text : `${text.slice(0, FEEDBACK_CHARS)}…`;
}

/** The scorer with what the refine step tells a draft it failed (CRITIC: feedback grounded in the check itself). */
function withFeedback(score: AnswerScorer, feedback: (score: number) => string): AnswerScorer {
  return Object.assign(score, { feedback });
}
