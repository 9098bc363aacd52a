import { replayTurn, type ReplayOverrides, type ReplayReport } from '../../src/app/replay/index.js';
import type { Soma } from '../../src/main.js';

/** Replays a recorded turn of `soma` through the product's replay use case; a refusal fails the test. */
export async function replay(soma: Pick<Soma, 'ctx'>, turnId: string, overrides?: ReplayOverrides): Promise<ReplayReport> {
  const report = await replayTurn(soma.ctx, { turnId, ...(overrides ? { overrides } : {}) });
  if (!report.ok) throw new Error(`replay of ${turnId} refused: ${report.error.code} ${report.error.message}`);
  return report.value;
}
