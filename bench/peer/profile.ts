/**
 * CPU profile of a stretch of this process (the V8 sampling profiler, as `node --cpu-prof` uses) and
 * its summary: self time by function, by part of the stack (library or layer), and the inclusive
 * time of the turn's own steps.
 */
import { Session } from 'node:inspector/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Profiles `work` (sampling every `intervalUs`), writes the `.cpuprofile` to `file` when given. */
export async function profile<T>(work: () => Promise<T>, { file, intervalUs = 200 }: { file?: string; intervalUs?: number } = {}): Promise<{ result: T; profile: CpuProfile }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await session.post('Profiler.start');
    const result = await work();
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    if (file) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
    }
    return { result, profile };
  } finally {
    session.disconnect();
  }
}

/**
 * The part of the system a frame belongs to. Order matters: the first match wins. `(program)` is
 * V8/native work not attributed to JavaScript; `(garbage collector)` is GC.
 */
const PARTS: [string, (url: string, fn: string) => boolean][] = [
  ['idle', (_u, fn) => fn === '(idle)'],
  ['garbage collector', (_u, fn) => fn === '(garbage collector)'],
  ['V8/native (program)', (_u, fn) => fn === '(program)' || fn === '(root)'],
  ['pg driver (pg, pg-protocol, pg-types, pg-pool)', (u) => /node_modules\/(pg|pg-protocol|pg-types|pg-pool|pg-connection-string|postgres-[a-z]+|pgpass)\//.test(u)],
  ['drizzle (query building, result mapping)', (u) => u.includes('node_modules/drizzle-orm/')],
  ['token counting (js-tiktoken)', (u) => u.includes('node_modules/js-tiktoken/')],
  ['logging/metrics/tracing (pino, prom-client, OpenTelemetry)', (u) => /node_modules\/(pino|pino-std-serializers|sonic-boom|thread-stream|prom-client|tdigest|bintrees|@opentelemetry)\//.test(u)],
  ['zod', (u) => u.includes('node_modules/zod/')],
  ['tsx loader', (u) => u.includes('node_modules/tsx/')],
  ['other libraries', (u) => u.includes('node_modules/')],
  ['learning step + recall (core/learning, brain adapter)', (u) => /\/src\/(core\/learning|adapters\/brain)\//.test(u)],
  ['context + token budget (core/context)', (u) => u.includes('/src/core/context/')],
  ['turn decisions (core/turn, core/tools)', (u) => /\/src\/core\//.test(u)],
  ['scripted model (adapters/model)', (u) => u.includes('/src/adapters/model/')],
  ['store adapter (adapters/store)', (u) => u.includes('/src/adapters/store/')],
  ['use case (app: sendMessage, loop, events)', (u) => u.includes('/src/app/')],
  ['other Soma code', (u) => u.includes('/src/')],
  ['bench harness', (u) => u.includes('/bench/')],
  ['JSON (stringify/parse)', (u, fn) => u === '' && /^(stringify|parse|JSONStringify|JSONParse|JsonStringify|JsonParse)$/.test(fn)],
  ['node internals (net, streams, timers, crypto)', (u) => u.startsWith('node:') || u === ''],
];

export function partOf(url: string, functionName: string): string {
  for (const [name, test] of PARTS) if (test(url, functionName)) return name;
  return 'other';
}

/** Functions whose inclusive time says what a step of the turn costs (synchronous parts, per resumption). */
const STEPS: [string, RegExp][] = [
  ['sendMessage / prepareTurn / runPreparedTurn', /^(sendMessage|prepareTurn|runPreparedTurn)$/],
  ['runTurnLoop', /^runTurnLoop$/],
  ['buildContext (lanes, token counting)', /^buildContext$/],
  ['countTokens (tiktoken)', /^(countTiktokens|countTiktokenTokens|countTokens)$/],
  ['scripted model stream', /^stream$/],
  ['learning step (pure)', /^learningStep$/],
  ['publishTurnMetrics (brain adapter)', /^publishTurnMetrics$/],
  ['saveIteration', /^saveIteration$/],
  ['writeEvent', /^writeEvent$/],
  ['finishTurn', /^finishTurn$/],
  ['recall (brain adapter)', /^recall$/],
  ['remember (brain adapter)', /^remember$/],
  ['textSimilarity', /^textSimilarity$/],
  ['drizzle build query', /^(buildQueryFromSourceParams|sqlToQuery|toSQL|buildInsertQuery|buildSelectQuery|buildUpdateQuery|mapResultRow|mapColumnsInSQLToAlias)$/],
];

export interface ProfileSummary {
  total_ms: number;
  busy_ms: number;
  parts: { part: string; self_ms: number; share_of_busy: number }[];
  top_self: { function: string; where: string; part: string; self_ms: number; share_of_busy: number }[];
  steps: { step: string; inclusive_ms: number; share_of_busy: number }[];
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const src = url.lastIndexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  const bench = url.lastIndexOf('/bench/');
  if (bench >= 0) return url.slice(bench + 1);
  return url;
}

/** Self and inclusive times from the samples of `profile` (idle excluded from "busy"). */
export function summarizeProfile(profile: CpuProfile, { top = 25 }: { top?: number } = {}): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  // Each sample's time is the delta to the next sample (the last gets the mean).
  const deltas = profile.timeDeltas;
  const mean = deltas.length > 0 ? deltas.reduce((a, b) => a + b, 0) / deltas.length : 0;
  const stepUs = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const dt = i + 1 < deltas.length ? deltas[i + 1]! : mean;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const fn = byId.get(at)!.callFrame.functionName;
      for (const [step, re] of STEPS) if (!seen.has(step) && re.test(fn)) seen.add(step);
    }
    for (const step of seen) stepUs.set(step, (stepUs.get(step) ?? 0) + dt);
  }
  const fnSelf = new Map<string, { function: string; where: string; part: string; us: number }>();
  const partUs = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const part = partOf(url, functionName);
    totalUs += us;
    if (part === 'idle') {
      idleUs += us;
      continue;
    }
    partUs.set(part, (partUs.get(part) ?? 0) + us);
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '(native)';
    const key = `${functionName}@${where}`;
    const entry = fnSelf.get(key) ?? { function: functionName || '(anonymous)', where, part, us: 0 };
    entry.us += us;
    fnSelf.set(key, entry);
  }
  const busyUs = totalUs - idleUs;
  const ms = (us: number) => Math.round(us / 100) / 10;
  const share = (us: number) => (busyUs > 0 ? Math.round((us / busyUs) * 1000) / 10 : 0);
  return {
    total_ms: ms(totalUs),
    busy_ms: ms(busyUs),
    parts: [...partUs].sort((a, b) => b[1] - a[1]).map(([part, us]) => ({ part, self_ms: ms(us), share_of_busy: share(us) })),
    top_self: [...fnSelf.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ function: e.function, where: e.where, part: e.part, self_ms: ms(e.us), share_of_busy: share(e.us) })),
    steps: STEPS.filter(([step]) => stepUs.has(step)).map(([step]) => ({ step, inclusive_ms: ms(stepUs.get(step)!), share_of_busy: share(stepUs.get(step)!) })),
  };
}
