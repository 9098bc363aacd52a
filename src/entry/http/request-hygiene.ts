import type { MiddlewareHandler } from 'hono';
import { SomaError } from '../../shared/errors.js';

/** Deepest nesting of objects and arrays a JSON request body may have. */
export const MAX_JSON_DEPTH = 32;

/**
 * Text a request may carry: no NUL and no unpaired UTF-16 surrogate (PostgreSQL's text and jsonb
 * cannot store them, and nothing a person writes contains them). Written without the `u` flag so
 * the OpenAPI `pattern` reads the same in every regex dialect: pairs are allowed, lone halves not.
 */
export const CLEAN_TEXT_PATTERN = '^(?:[^\\u0000\\uD800-\\uDFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])*$';
const cleanText = new RegExp(CLEAN_TEXT_PATTERN);

/** Whether `text` holds no NUL and no unpaired surrogate. */
export function isCleanText(text: string): boolean {
  return cleanText.test(text);
}

const hexValue = (text: string, at: number): number => {
  const hex = text.slice(at, at + 4);
  return /^[0-9a-fA-F]{4}$/.test(hex) ? Number.parseInt(hex, 16) : -1;
};

const isHigh = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLow = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/**
 * Scans a JSON text once, without recursion or parsing: the problem of the first string that
 * carries NUL or an unpaired surrogate (raw or as a `\u` escape), or of nesting deeper than
 * `maxDepth`; undefined when the text is clean. Syntax errors are left to `JSON.parse`.
 */
export function jsonTextProblem(text: string, maxDepth = MAX_JSON_DEPTH): string | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!inString) {
      if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) {
        if (++depth > maxDepth) return `the JSON body nests deeper than ${maxDepth} levels`;
      } else if (c === 0x7d || c === 0x5d) depth--;
      continue;
    }
    if (c === 0x22) inString = false;
    else if (c === 0) return 'a string holds a NUL character';
    else if (isHigh(c)) {
      if (!isLow(text.charCodeAt(i + 1))) return 'a string holds an unpaired UTF-16 surrogate';
      i++;
    } else if (isLow(c)) return 'a string holds an unpaired UTF-16 surrogate';
    else if (c === 0x5c) {
      if (text.charCodeAt(i + 1) !== 0x75) {
        i++;
        continue;
      }
      const code = hexValue(text, i + 2);
      i += 5;
      if (code === 0) return 'a string holds a NUL character (\\u0000)';
      if (isLow(code)) return 'a string holds an unpaired UTF-16 surrogate';
      if (isHigh(code)) {
        const next = text.charCodeAt(i + 1) === 0x5c && text.charCodeAt(i + 2) === 0x75 ? hexValue(text, i + 3) : -1;
        if (!isLow(next)) return 'a string holds an unpaired UTF-16 surrogate';
        i += 6;
      }
    }
  }
  return undefined;
}

const hasBody = (method: string) => method !== 'GET' && method !== 'HEAD';

/**
 * The request-validation layer in front of every route: query values and path segments must be
 * clean text, and a JSON body must be clean text nested at most {@link MAX_JSON_DEPTH} deep — else
 * 400 `VALIDATION_FAILED` before any schema or use case sees it. (The body size limit runs before
 * this, in `app.ts`.) Text coming back from models and tools is the turn's own business.
 */
export function requestHygiene({ maxDepth = MAX_JSON_DEPTH }: { maxDepth?: number } = {}): MiddlewareHandler {
  return async (c, next) => {
    let path: string;
    try {
      path = decodeURIComponent(c.req.path);
    } catch {
      throw new SomaError('VALIDATION_FAILED', 'the request path is not valid percent-encoded UTF-8');
    }
    if (!isCleanText(path)) throw new SomaError('VALIDATION_FAILED', 'the request path holds a NUL character or an unpaired surrogate');
    for (const [name, values] of Object.entries(c.req.queries())) {
      if (!isCleanText(name) || values.some((value) => !isCleanText(value))) {
        throw new SomaError('VALIDATION_FAILED', `query parameter ${isCleanText(name) ? name : '(name)'} holds a NUL character or an unpaired surrogate`);
      }
    }
    const type = c.req.header('content-type') ?? '';
    if (hasBody(c.req.method) && (type === '' || /json/i.test(type))) {
      const text = await c.req.text();
      const problem = text === '' ? undefined : jsonTextProblem(text, maxDepth);
      if (problem) {
        const where = uncleanField(text);
        throw new SomaError('VALIDATION_FAILED', `${where ? `${where}: ` : ''}${problem}; requests must be clean text nested at most ${maxDepth} levels`);
      }
    }
    await next();
  };
}

/** The path (`a.b.0`) of the first string or key that is not clean text, when the body parses as JSON. */
function uncleanField(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const walk = (node: unknown, path: string[], depth: number): string[] | undefined => {
    if (depth > MAX_JSON_DEPTH) return undefined;
    if (typeof node === 'string') return isCleanText(node) ? undefined : path;
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) {
        const found = walk(item, [...path, String(i)], depth + 1);
        if (found) return found;
      }
      return undefined;
    }
    if (node && typeof node === 'object') {
      for (const [key, item] of Object.entries(node)) {
        if (!isCleanText(key)) return [...path, '(key)'];
        const found = walk(item, [...path, key], depth + 1);
        if (found) return found;
      }
    }
    return undefined;
  };
  const found = walk(value, [], 0);
  return found && found.length > 0 ? found.join('.') : found ? 'body' : undefined;
}
