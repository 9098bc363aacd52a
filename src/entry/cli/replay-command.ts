import type { Config } from '../../config.js';
import { listReplayableTurns, replayTurn, type ReplayOverrides, type ReplayReport } from '../../app/replay/index.js';
import { SomaError } from '../../shared/errors.js';

export interface ReplayCommandOptions {
  turnId?: string;
  conversation?: string;
  since?: string;
  with?: string[];
  json?: boolean;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

/** Parses `--with key=value` pairs (numbers and booleans typed). */
export function parseOverrides(pairs: string[] = []): ReplayOverrides {
  const out: ReplayOverrides = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new SomaError('VALIDATION_FAILED', `--with expects key=value (got "${pair}")`);
    const key = pair.slice(0, eq).trim();
    const raw = pair.slice(eq + 1).trim();
    out[key] = raw === 'true' ? true : raw === 'false' ? false : Number.isFinite(Number(raw)) && raw !== '' ? Number(raw) : raw;
  }
  return out;
}

function describe(report: ReplayReport): string {
  const lines: string[] = [];
  if (report.counterfactual) {
    lines.push(`turn ${report.turn_id} (counterfactual, nothing written)`);
    lines.push(`  recorded: ${report.recorded.iterations} iterations, exit ${report.recorded.exit_reason}, answer from iteration ${report.recorded.answer_iteration}`);
    lines.push(`  would be: ${report.replayed.iterations} iterations, exit ${report.replayed.exit_reason}, answer from iteration ${report.replayed.answer_iteration}`);
    for (const d of report.differences) lines.push(`  ${d.iteration === 'turn' ? 'turn' : `iteration ${d.iteration}`} ${d.field}: ${JSON.stringify(d.recorded)} → ${JSON.stringify(d.replayed)}`);
    return lines.join('\n');
  }
  if (report.identical) {
    lines.push(`turn ${report.turn_id}: identical (${report.replayed.iterations} iterations, exit ${report.replayed.exit_reason})`);
  } else {
    lines.push(`turn ${report.turn_id}: ${report.differences.length} difference(s)`);
    for (const d of report.differences) lines.push(`  ${d.iteration === 'turn' ? 'turn' : `iteration ${d.iteration}`} ${d.field}: recorded ${JSON.stringify(d.recorded)} ≠ replayed ${JSON.stringify(d.replayed)}`);
  }
  if (report.interleaved.length > 0) lines.push(`  note: other turns learned before iteration(s) ${report.interleaved.join(', ')}; replay started them from the recorded history`);
  return lines.join('\n');
}

/** `soma replay`: exit code 0 when every replayed turn is identical (or counterfactual), else 1. */
export async function runReplayCommand(cfg: Config, options: ReplayCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const overrides = parseOverrides(options.with);
  if (!options.turnId && !options.conversation && !options.since) throw new SomaError('VALIDATION_FAILED', 'give a turn id, --conversation <id> or --since <time>');
  const { openStore } = await import('../../main.js');
  const opened = await openStore(cfg);
  try {
    let turnIds: string[];
    if (options.turnId) turnIds = [options.turnId];
    else {
      const since = options.since ? new Date(options.since) : undefined;
      if (since && Number.isNaN(since.getTime())) throw new SomaError('VALIDATION_FAILED', `--since is not a time: ${options.since}`);
      turnIds = await listReplayableTurns(opened.ctx, { ...(options.conversation ? { conversationId: options.conversation } : {}), ...(since ? { since } : {}) });
    }
    const { default: cliProgress } = await import('cli-progress');
    const bar = turnIds.length > 1 && !options.json && process.stderr.isTTY ? new cliProgress.SingleBar({ stream: process.stderr, format: 'replay [{bar}] {value}/{total} turns' }, cliProgress.Presets.shades_classic) : undefined;
    bar?.start(turnIds.length, 0);
    const reports: ReplayReport[] = [];
    for (const id of turnIds) {
      const report = await replayTurn(opened.ctx, { turnId: id, overrides });
      if (!report.ok) throw new SomaError(report.error.code, report.error.message);
      reports.push(report.value);
      bar?.increment();
    }
    bar?.stop();
    if (options.json) out.write(`${JSON.stringify(turnIds.length === 1 ? reports[0] : reports, null, 2)}\n`);
    else for (const report of reports) out.write(`${describe(report)}\n`);
    const differing = reports.filter((r) => !r.counterfactual && !r.identical).length;
    if (turnIds.length > 1 && !options.json) err.write(`${reports.length} turn(s) replayed, ${differing} with differences\n`);
    return differing > 0 ? 1 : 0;
  } finally {
    await opened.close();
  }
}
