/** Time source, passed in so breakers, deadlines and tests are deterministic. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
