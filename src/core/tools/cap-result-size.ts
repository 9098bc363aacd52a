import type { JsonValue } from '../../shared/json.js';

export interface CappedResult {
  /** The value itself when it fits, else a string: the head of its JSON text plus a marker. */
  value: JsonValue;
  truncated: boolean;
  /** UTF-8 size of the value serialised as JSON. */
  originalBytes: number;
}

const encoder = new TextEncoder();

/** The marker appended to a truncated result. */
export function truncationMarker(originalBytes: number): string {
  return `…[truncated: result was ${originalBytes} bytes]`;
}

/**
 * Caps a tool result so that its JSON text is at most `maxBytes` UTF-8 bytes. A result that fits is
 * returned unchanged; a larger one becomes the longest prefix of its JSON text (never splitting a
 * character) followed by {@link truncationMarker}, the whole string within `maxBytes`.
 */
export function capResultSize(value: JsonValue, maxBytes: number): CappedResult {
  const text = JSON.stringify(value) ?? 'null';
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return { value, truncated: false, originalBytes: bytes.length };
  const marker = truncationMarker(bytes.length);
  if (serialisedBytes(marker) > maxBytes) throw new RangeError(`maxBytes ${maxBytes} cannot even hold the truncation marker`);
  // The capped value is itself a JSON string, so quotes and escapes count: shrink until it fits.
  let end = maxBytes - serialisedBytes(marker);
  let head = utf8Prefix(bytes, end);
  while (serialisedBytes(head + marker) > maxBytes) {
    end = Math.max(0, end - (serialisedBytes(head + marker) - maxBytes));
    head = utf8Prefix(bytes, end);
  }
  return { value: head + marker, truncated: true, originalBytes: bytes.length };
}

/** The longest valid UTF-8 prefix of `bytes` with at most `length` bytes, decoded. */
function utf8Prefix(bytes: Uint8Array, length: number): string {
  let end = length;
  // Step back over continuation bytes (10xxxxxx) so a multi-byte character is never cut.
  if (end < bytes.length) while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

function serialisedBytes(value: string): number {
  return encoder.encode(JSON.stringify(value)).length;
}
