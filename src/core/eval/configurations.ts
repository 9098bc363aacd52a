/** At most this many configurations side by side in one run. */
export const MAX_CONFIGURATIONS = 12;

/** The capsule settings a configuration sets (names as in the capsule body). */
export interface ConfigurationCapsule {
  rlm_enabled: boolean;
  rlm_max_iterations?: number;
  rlm_min_iterations?: number;
  rlm_convergence_threshold?: number;
  learning_config?: { temperature?: number };
}

export interface EvalConfiguration {
  /** As given: `single-shot`, `rlm`, `rlm:threshold=0.8:max_iterations=3`. */
  name: string;
  capsule: ConfigurationCapsule;
}

const overrides: Record<string, { min: number; max: number; integer: boolean; apply: (c: ConfigurationCapsule, v: number) => void }> = {
  threshold: { min: 0, max: 1, integer: false, apply: (c, v) => void (c.rlm_convergence_threshold = v) },
  max_iterations: { min: 1, max: 10, integer: true, apply: (c, v) => void (c.rlm_max_iterations = v) },
  min_iterations: { min: 1, max: 10, integer: true, apply: (c, v) => void (c.rlm_min_iterations = v) },
  temperature: { min: 0, max: 2, integer: false, apply: (c, v) => void (c.learning_config = { ...c.learning_config, temperature: v }) },
};

/**
 * Reads a configuration name: `single-shot` (one iteration, `rlm_enabled: false`) or `rlm` (the
 * capsule defaults), optionally followed by capsule overrides `:key=value` — `threshold`,
 * `max_iterations`, `min_iterations`, `temperature` — e.g. `rlm:threshold=0.8:max_iterations=3`.
 */
export function parseConfiguration(name: string): { configuration: EvalConfiguration } | { error: string } {
  const [base, ...parts] = name.trim().split(':');
  if (base !== 'single-shot' && base !== 'rlm') return { error: `configuration "${name}" must start with single-shot or rlm` };
  const capsule: ConfigurationCapsule = { rlm_enabled: base === 'rlm' };
  for (const part of parts) {
    const [key, raw] = part.split('=');
    const rule = key === undefined ? undefined : overrides[key];
    if (!rule || raw === undefined) return { error: `configuration "${name}": "${part}" is not one of ${Object.keys(overrides).map((k) => `${k}=<value>`).join(', ')}` };
    const value = Number(raw);
    if (!Number.isFinite(value) || value < rule.min || value > rule.max || (rule.integer && !Number.isInteger(value))) {
      return { error: `configuration "${name}": ${key} must be ${rule.integer ? 'a whole number' : 'a number'} from ${rule.min} to ${rule.max}` };
    }
    rule.apply(capsule, value);
  }
  if (capsule.rlm_min_iterations !== undefined && capsule.rlm_min_iterations > (capsule.rlm_max_iterations ?? 10)) return { error: `configuration "${name}": min_iterations exceeds max_iterations` };
  return { configuration: { name: name.trim(), capsule } };
}

/** Reads a list of configuration names (distinct, at most {@link MAX_CONFIGURATIONS}). */
export function parseConfigurations(names: readonly string[]): { configurations: EvalConfiguration[] } | { error: string } {
  if (names.length === 0) return { error: 'no configuration to run' };
  if (names.length > MAX_CONFIGURATIONS) return { error: `at most ${MAX_CONFIGURATIONS} configurations at once` };
  if (new Set(names.map((n) => n.trim())).size !== names.length) return { error: 'a configuration is listed twice' };
  const configurations: EvalConfiguration[] = [];
  for (const name of names) {
    const parsed = parseConfiguration(name);
    if ('error' in parsed) return parsed;
    configurations.push(parsed.configuration);
  }
  return { configurations };
}
