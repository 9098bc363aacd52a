/**
 * Whether an iteration offers the capsule's tools to the model: not in degraded mode (SPEC §3), and
 * not on the turn's last allowed iteration — a tool called there could never be answered with its
 * result, so that iteration (the only one of a single-shot turn) must answer in text.
 */
export function toolsOffered({ iteration, maxIterations, degraded }: { iteration: number; maxIterations: number; degraded: boolean }): boolean {
  return !degraded && iteration + 1 < maxIterations;
}
