/** What a masked secret reads as in every response, event, trace and log line. */
export const maskedSecret = '***';

/** Keys whose values are secrets wherever they appear (SPEC §13.1). */
export const secretKeyPattern = /secret|token|key|password|authorization/i;
/** Keys whose whole content is secret: every value inside is masked, the inner keys stay visible. */
const secretContainers = new Set(['headers', 'env']);

/**
 * A copy of a capability's `config` safe to show: every value under `headers` and `env`, and every
 * value of a key matching {@link secretKeyPattern}, at any depth, becomes `"***"`. Other values and
 * the shape (keys, arrays) stay as they are; the input is not changed. The stored config keeps the
 * real values for the tool.
 */
export function maskCapabilityConfig<T>(config: T): T {
  return maskValue(config, false) as T;
}

function maskValue(value: unknown, secret: boolean): unknown {
  if (Array.isArray(value)) return value.map((item) => maskValue(item, secret));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, inner]) => [
        key,
        maskValue(inner, secret || secretContainers.has(key.toLowerCase()) || secretKeyPattern.test(key)),
      ]),
    );
  }
  return secret && value !== null && value !== undefined ? maskedSecret : value;
}

/**
 * The config to store when a client sends back a config it read (write-only secrets): wherever
 * `incoming` has `"***"` at a secret position and `stored` has a value there, the stored value is
 * kept; everything else comes from `incoming`. So a PATCH of a masked config does not overwrite the
 * secrets with `"***"`, and a new value replaces the old one.
 */
export function restoreMaskedSecrets<T>(incoming: T, stored: unknown): T {
  return restore(incoming, stored, false) as T;
}

function restore(incoming: unknown, stored: unknown, secret: boolean): unknown {
  if (secret && incoming === maskedSecret) return stored === undefined || stored === null || typeof stored === 'object' ? incoming : stored;
  if (Array.isArray(incoming)) {
    return incoming.map((item, index) => restore(item, Array.isArray(stored) ? stored[index] : undefined, secret));
  }
  if (incoming !== null && typeof incoming === 'object') {
    const previous = stored !== null && typeof stored === 'object' && !Array.isArray(stored) ? (stored as Record<string, unknown>) : {};
    return Object.fromEntries(
      Object.entries(incoming as Record<string, unknown>).map(([key, inner]) => [
        key,
        restore(inner, previous[key], secret || secretContainers.has(key.toLowerCase()) || secretKeyPattern.test(key)),
      ]),
    );
  }
  return incoming;
}
