/** Health of one dependency; "unknown" (not yet checked) is not unhealthy. */
export type HealthState = 'unknown' | 'healthy' | 'unhealthy';

/** The shared dependencies whose known failure puts every turn in degraded mode (SPEC §3). */
export type CriticalService = 'database' | 'brain';

export interface HealthMonitorOptions {
  /** Most model ids remembered; the least recently reported are forgotten (become "unknown"). */
  maxModels?: number;
}

/**
 * Remembers the last known state of each dependency and of each model, from real outcomes (calls
 * that succeeded or failed), and answers whether a turn should run degraded (SPEC §13.1): a turn is
 * degraded when the database or the brain is known unhealthy, or when *its own* model is — so one
 * capsule's failing model never degrades another capsule's turns.
 */
export class HealthMonitor {
  private readonly states = new Map<string, HealthState>();
  private readonly modelStates = new Map<string, HealthState>();
  private readonly maxModels: number;

  constructor({ maxModels = 1_000 }: HealthMonitorOptions = {}) {
    this.maxModels = maxModels;
  }

  /** Records the outcome of a call to a shared dependency (`database`, `brain`, …). */
  report(service: CriticalService | string, ok: boolean): void {
    this.states.set(service, ok ? 'healthy' : 'unhealthy');
  }

  state(service: CriticalService | string): HealthState {
    return this.states.get(service) ?? 'unknown';
  }

  /** Records the outcome of a call to one model (its id, e.g. `openai:gpt-4o-mini`). */
  reportModel(model: string, ok: boolean): void {
    this.modelStates.delete(model);
    this.modelStates.set(model, ok ? 'healthy' : 'unhealthy');
    if (this.modelStates.size > this.maxModels) this.modelStates.delete(this.modelStates.keys().next().value!);
  }

  modelState(model: string): HealthState {
    return this.modelStates.get(model) ?? 'unknown';
  }

  /**
   * Whether a turn runs degraded: the database or the brain is known unhealthy, or (when given) the
   * turn's model is. Without `model`, only the shared dependencies count.
   */
  degraded({ model }: { model?: string } = {}): boolean {
    if ((['database', 'brain'] as const).some((s) => this.state(s) === 'unhealthy')) return true;
    return model !== undefined && this.modelState(model) === 'unhealthy';
  }

  /** The shared dependencies' states (model states are per capsule: see {@link modelSnapshot}). */
  snapshot(): Record<string, HealthState> {
    return Object.fromEntries(this.states);
  }

  /** How many known models are healthy and unhealthy (no ids: they may be tenant-chosen). */
  modelSnapshot(): { healthy: number; unhealthy: number } {
    let healthy = 0;
    let unhealthy = 0;
    for (const state of this.modelStates.values()) {
      if (state === 'healthy') healthy += 1;
      else if (state === 'unhealthy') unhealthy += 1;
    }
    return { healthy, unhealthy };
  }
}
