import { z } from '@hono/zod-openapi';
import { KEYSET_CURSOR_PATTERN } from '../../app/keyset-cursor.js';
import { CLEAN_TEXT_PATTERN, isCleanText } from './request-hygiene.js';

export { CLEAN_TEXT_PATTERN };

/**
 * The building blocks of the API's schemas. Every constraint the server enforces on a field is
 * declared here, so the OpenAPI says exactly what is accepted (Schemathesis checks both ways: what
 * matches the schema is never refused with 400, what does not is never accepted).
 */

const clean = new RegExp(CLEAN_TEXT_PATTERN);

/** One character of clean text (a surrogate pair counts as one), for patterns built on it. */
export const CLEAN_CHAR = '(?:[^\\u0000\\uD800-\\uDFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])';
/** The characters `String#trim` removes, spelled out (so JS and other regex dialects agree). */
export const JS_WHITESPACE = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
const cleanMessage = 'must not contain NUL or unpaired surrogates';

/**
 * What the OpenAPI declares for clean text: "contains no NUL", as `not: {pattern: "\\u0000"}`.
 * Validators that read strings as code points (Python, Rust) cannot spell a surrogate half, and JSON
 * they write never holds one, so the declaration names NUL only; the server checks both (here and in
 * the request layer). It is not the equivalent anchored `pattern: "^[^\\u0000]*$"`: with a large
 * `maxLength`, an anchored pattern made Schemathesis' generator (its native `jsonschema_rs` side)
 * allocate in proportion to the length — its fuzzing phase grew past 20 GB on the 100,000-character
 * fields. The server's check is a `refine` (a zod `regex` would publish its own pattern).
 */
export const DECLARED_CLEAN = { not: { pattern: '\\u0000' } };

/** A string of at most `max` characters (at least `min`) with no NUL and no unpaired surrogate. */
export const text = (max: number, min = 0) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((value) => clean.test(value), cleanMessage)
    .openapi(DECLARED_CLEAN);

/** A whole number in [min, max] (always bounded: JSON numbers above 2^53 are not integers here). */
export const int = (min = 0, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);

/** A key of a JSON object sent by a tenant. */
const jsonKey = text(200);
const propertyNames = { type: 'string', maxLength: 200, not: DECLARED_CLEAN.not };

/** A record whose keys are clean text of at most 200 characters (declared as `propertyNames`). */
export const record = <T extends z.ZodType>(values: T) => z.record(jsonKey, values).openapi({ propertyNames } as never);

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * Any JSON value whose strings and keys are clean text. Nesting is bounded by the request layer
 * (`MAX_JSON_DEPTH`), which no schema keyword can express.
 */
// The component excludes null and each use adds it (`oneOf [$ref, null]` is what the OpenAPI generator
// writes for a nullable reference; a component that also matched null would fail that `oneOf`).
const JsonNonNull: z.ZodType<Exclude<Json, null>> = z
  .lazy(() => z.union([text(100_000), z.number(), z.boolean(), z.array(JsonNonNull.nullable()).max(100), record(JsonNonNull.nullable())]))
  .openapi('JsonValue', { description: 'Any JSON value but null; strings and keys without NUL or unpaired surrogates, nested at most 32 levels.' });
export const JsonValue: z.ZodType<Json> = JsonNonNull.nullable();

/**
 * An open request object: the declared fields plus any extra field of a clean key (at most 200
 * characters) holding any JSON value but null (the generator cannot declare a nullable
 * `additionalProperties`). Extra fields are accepted and ignored.
 */
export function openObject<T extends z.ZodRawShape>(shape: T) {
  return z
    .object(shape)
    .catchall(JsonNonNull)
    .superRefine((value, ctx) => {
      for (const key of Object.keys(value)) {
        if (key.length > 200 || !isCleanText(key)) ctx.addIssue({ code: 'custom', path: [key.slice(0, 40)], message: 'field names are at most 200 characters of clean text' });
      }
    });
}
export const openKeys = { propertyNames } as never;

/** A JSON object of {@link JsonValue}s. */
export const JsonObject = record(JsonValue);

/** The keyset cursor of the paged lists (`next_cursor` of the previous page). */
export const KeysetCursor = z
  .string()
  .regex(new RegExp(KEYSET_CURSOR_PATTERN), 'a next_cursor of a previous page')
  .openapi({ description: 'The `next_cursor` of the previous page, unchanged.' });

/** A UUID (lower or upper case hex). */
export const Uuid = z.string().uuid();
