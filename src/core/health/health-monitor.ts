/** Health of one dependency; "unknown" (not yet checked) is not unhealthy. */
export type HealthState = 'unknown' | 'healthy' | 'unhealthy';

/** The critical services whose known failure puts turns in degraded mode (SPEC §3). */
export type CriticalService = 'database' | 'llm' | 'brain';

/**
 * Remembers the last known state of each critical service from real outcomes (calls that succeeded
 * or failed) and answers whether turns should run degraded.
 */
export class HealthMonitor {
  private readonly states = new Map<string, HealthState>();

  report(service: CriticalService | string, ok: boolean): void {
    this.states.set(service, ok ? 'healthy' : 'unhealthy');
  }

  state(service: CriticalService | string): HealthState {
    return this.states.get(service) ?? 'unknown';
  }

  /** Degraded when a critical service is known unhealthy. */
  degraded(): boolean {
    return (['database', 'llm', 'brain'] as const).some((s) => this.state(s) === 'unhealthy');
  }

  snapshot(): Record<string, HealthState> {
    return Object.fromEntries(this.states);
  }
}
