/**
 * Where new identifiers and secrets come from, passed in so use cases stay deterministic under test.
 * The production adapter uses the operating system's CSPRNG (`node:crypto`).
 */
export interface IdSource {
  /** A new random UUID (v4), for row ids and event ids. */
  uuid(): string;
  /**
   * `bytes` random bytes encoded as `base64url` or `hex`, for API keys and generated user ids.
   * Must come from a cryptographically secure generator: API keys are secrets.
   */
  token(bytes: number, encoding: 'base64url' | 'hex'): string;
}
