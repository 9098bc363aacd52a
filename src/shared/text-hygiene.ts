/**
 * Characters PostgreSQL cannot store: NUL (U+0000, refused in `text` and `jsonb`) and unpaired UTF-16
 * surrogates (not Unicode scalar values: `jsonb` refuses their `\u` escapes). Requests carrying them are
 * refused at the edge; model and tool output has them replaced by U+FFFD (SPEC §13.4).
 */
// eslint-disable-next-line no-control-regex
const unstorable = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// eslint-disable-next-line no-control-regex
const unstorableTest = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const REPLACEMENT_CHARACTER = '\uFFFD';

/** Whether a string holds a character PostgreSQL cannot store. */
export function hasUnstorableText(text: string): boolean {
  return unstorableTest.test(text);
}

/** The text with every unstorable character replaced by U+FFFD, and how many were replaced. */
export function cleanText(text: string): { text: string; replaced: number } {
  if (!unstorableTest.test(text)) return { text, replaced: 0 };
  let replaced = 0;
  const cleaned = text.replace(unstorable, () => {
    replaced++;
    return REPLACEMENT_CHARACTER;
  });
  return { text: cleaned, replaced };
}

/**
 * A JSON-like value with every string (keys too) cleaned; the same object when nothing needed
 * replacing. `replaced` counts the characters replaced.
 */
export function cleanJson<T>(value: T): { value: T; replaced: number } {
  let replaced = 0;
  const visit = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const cleaned = cleanText(v);
      replaced += cleaned.replaced;
      return cleaned.text;
    }
    if (Array.isArray(v)) {
      let changed = false;
      const out = v.map((item) => {
        const next = visit(item);
        if (next !== item) changed = true;
        return next;
      });
      return changed ? out : v;
    }
    if (v !== null && typeof v === 'object') {
      let changed = false;
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(v)) {
        const cleanKey = visit(key) as string;
        const next = visit(item);
        if (next !== item || cleanKey !== key) changed = true;
        out[cleanKey] = next;
      }
      return changed ? out : v;
    }
    return v;
  };
  const cleaned = visit(value) as T;
  return { value: cleaned, replaced };
}

/** The path (`content`, `tools.0.name`…) of the first string in a JSON value that holds an unstorable character; undefined when none. */
export function findUnstorableText(value: unknown, path: string[] = []): string | undefined {
  if (typeof value === 'string') return hasUnstorableText(value) ? path.join('.') || 'body' : undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findUnstorableText(item, [...path, String(index)]);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (hasUnstorableText(key)) return [...path, key].join('.');
      const found = findUnstorableText(item, [...path, key]);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
