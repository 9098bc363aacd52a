/** Thrown (by replay) or raised (by the deadline timer) when the turn's time is up mid-call. */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/** The abort reason of a turn stopped because its process is going away (shutdown past its grace, replay of such a turn). */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
}

/** The turn's deadline: an abort signal that fires at it (combined with the client's), and its time. */
export interface TurnDeadline {
  at: number;
  signal: AbortSignal;
  /** Whether the deadline (not the client) aborted the turn. */
  reached(): boolean;
  stop(): void;
}

/** Arms the deadline `deadlineMs` after `startedAt`; replay (`timed: false`) never arms a timer. */
export function armDeadline({ startedAt, deadlineMs, signal, timed }: { startedAt: number; deadlineMs: number; signal?: AbortSignal; timed: boolean }): TurnDeadline {
  const controller = new AbortController();
  const timer = timed ? setTimeout(() => controller.abort(new DeadlineError('turn deadline reached')), deadlineMs) : undefined;
  timer?.unref?.();
  return {
    at: startedAt + deadlineMs,
    signal: signal ? AbortSignal.any([signal, controller.signal]) : controller.signal,
    reached: () => controller.signal.aborted,
    stop: () => {
      if (timer) clearTimeout(timer);
    },
  };
}
