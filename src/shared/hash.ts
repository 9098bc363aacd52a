import { hash } from 'node:crypto';

/** SHA-256 hex digest of a string. */
export function sha256Hex(input: string): string {
  return hash('sha256', input, 'hex');
}

/**
 * A stable 31-bit non-negative integer derived from a string (first 4 bytes of its SHA-256).
 * Used as the sampling seed of a turn: the same turn id always gives the same seed.
 */
export function stableSeed(input: string): number {
  return hash('sha256', input, 'buffer').readUInt32BE(0) & 0x7fffffff;
}

/** JSON with object keys sorted, so equal values always serialise identically. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
