/**
 * What the idle memory of `soma serve` (embedded PGlite, no model loaded) is made of: each heavy part
 * measured alone in a fresh Node process — resident memory after the memory-reducing collection that
 * `soma serve` runs once idle (`src/entry/cli/idle-heap.ts`) — against a baseline of Node with the
 * tsx loader (how `bin/soma.mjs` runs the sources), and the whole server (`createSoma` + listen on a
 * PGlite data folder, as `soma serve` does), compacted and as start-up leaves it. Each probe runs with
 * the malloc setting `soma serve` gives itself (`bin/malloc-settings.mjs`).
 * Usage: node --import tsx bench/idle-memory.ts [--repeats 3] [--only a,b]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error -- plain ESM of the bin, no types
import { trimThresholdBytes } from '../bin/malloc-settings.mjs';
import { compactHeap } from '../src/entry/cli/idle-heap.js';

const here = fileURLToPath(import.meta.url);
const repoRoot = path.resolve(path.dirname(here), '..');

/** One probe: what it loads or does, run in a process of its own. */
const probes: Record<string, { what: string; run: (dataDir: string) => Promise<unknown> }> = {
  baseline: { what: 'Node 24 + tsx loader, nothing else', run: async () => undefined },
  pino: { what: 'pino', run: () => import('pino') },
  hono: { what: 'hono + @hono/node-server', run: async () => Promise.all([import('hono'), import('@hono/node-server')]) },
  'zod-openapi': { what: '@hono/zod-openapi (zod 4, openapi3-ts)', run: () => import('@hono/zod-openapi') },
  'prom-client': { what: 'prom-client', run: () => import('prom-client') },
  drizzle: { what: 'drizzle-orm (pg-core, node-postgres, pglite drivers) + pg', run: async () => Promise.all([import('drizzle-orm'), import('drizzle-orm/node-postgres'), import('drizzle-orm/pglite'), import('pg')]) },
  'pglite-import': { what: '@electric-sql/pglite imported, not opened', run: () => import('@electric-sql/pglite') },
  'pglite-open': {
    what: 'PGlite opened on an existing data folder (Soma settings), one query',
    run: async (dataDir) => {
      const { openDatabase } = await import('../src/adapters/store/index.js');
      const db = await openDatabase({ dataDir });
      await db.ping();
      return db;
    },
  },
  'opa-wasm': {
    what: 'OPA WASM policy loaded (@open-policy-agent/opa-wasm + policy/soma/tools.wasm)',
    run: async () => (await import('../src/adapters/policy/index.js')).createOpaWasmPolicy({}),
  },
  tiktoken: { what: 'js-tiktoken with its o200k + cl100k ranks imported (not constructed)', run: () => import('../src/adapters/model/tiktoken-counter.js') },
  'tiktoken-encoders': {
    what: 'js-tiktoken o200k + cl100k encoders constructed (the first token count)',
    run: async () => {
      const { countTiktokens } = await import('../src/adapters/model/tiktoken-counter.js');
      return countTiktokens('hello world', 'o200k_base') + countTiktokens('hello world', 'cl100k_base');
    },
  },
  opentelemetry: { what: '@opentelemetry/api', run: () => import('@opentelemetry/api') },
  'opentelemetry-sdk': {
    what: 'OpenTelemetry SDK + OTLP exporter (only with OTEL_EXPORTER_OTLP_ENDPOINT)',
    run: async () => Promise.all([import('@opentelemetry/sdk-trace-node'), import('@opentelemetry/exporter-trace-otlp-http'), import('@opentelemetry/resources')]),
  },
  ajv: { what: 'ajv + ajv-formats (tool argument validation)', run: async () => Promise.all([import('ajv'), import('ajv/dist/2019.js'), import('ajv/dist/2020.js'), import('ajv-formats')]) },
  mathjs: { what: 'mathjs (calculator tool; loaded on first use)', run: async () => { const { all, create } = await import("mathjs"); return create(all!); } },
  mcp: {
    what: '@modelcontextprotocol/sdk client (MCP tools; loaded on first use)',
    run: async () => Promise.all([import('@modelcontextprotocol/sdk/client/index.js'), import('@modelcontextprotocol/sdk/client/stdio.js'), import('@modelcontextprotocol/sdk/client/streamableHttp.js')]),
  },
  'ai-sdk': { what: 'AI SDK + providers (remote models; loaded on first use)', run: async () => Promise.all([import('ai'), import('@ai-sdk/openai'), import('@ai-sdk/anthropic'), import('@ai-sdk/openai-compatible')]) },
  'node-llama-cpp': { what: 'node-llama-cpp imported (local model adapter; loaded on first use)', run: () => import('node-llama-cpp') },
  kafka: { what: '@platformatic/kafka (relay; only with KAFKA_BROKERS)', run: () => import('@platformatic/kafka') },
  commander: { what: 'commander + cli-progress (CLI)', run: async () => Promise.all([import('commander'), import('cli-progress')]) },
  'soma-modules': { what: 'src/main.ts imported (the whole static import graph), nothing started', run: () => import('../src/main.js') },
  'server-as-started': {
    what: 'the same server as start-up leaves it (no collection, 1 s after listen)',
    run: async (dataDir) => probes.server!.run(dataDir),
  },
  server: {
    what: 'the server: createSoma on the PGlite data folder + listen (what `soma serve` runs)',
    run: async (dataDir) => {
      const { loadConfig } = await import('../src/config.js');
      const { createSoma } = await import('../src/main.js');
      const script = path.join(dataDir, '..', 'script.json');
      writeFileSync(script, JSON.stringify({ turns: [{ iterations: [{ text: 'ok' }] }] }));
      const config = loadConfig({ ...process.env, SOMA_DATA_DIR: path.dirname(dataDir), SOMA_MODEL: `scripted:${script}`, SOMA_LOG_LEVEL: 'silent', DATABASE_URL: undefined, KAFKA_BROKERS: undefined });
      const soma = await createSoma({ config });
      await soma.listen({ port: 0, host: '127.0.0.1' });
      return soma;
    },
  },
};

interface ProbeResult {
  probe: string;
  rss_mb: number;
  heap_used_mb: number;
  external_mb: number;
  array_buffers_mb: number;
  anon_mb: number;
  file_mb: number;
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 102.4) / 10;

async function probe(name: string, dataDir: string): Promise<void> {
  const keep = await probes[name]!.run(dataDir);
  await new Promise((r) => setTimeout(r, 1000));
  if (name !== 'server-as-started') {
    compactHeap();
    await new Promise((r) => setTimeout(r, 500));
  }
  const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
  const m = process.memoryUsage();
  const result: ProbeResult = {
    probe: name,
    rss_mb: mb(m.rss),
    heap_used_mb: mb(m.heapUsed),
    external_mb: mb(m.external),
    array_buffers_mb: mb(m.arrayBuffers),
    anon_mb: mb(kb('Anonymous')),
    file_mb: mb(kb('Rss') - kb('Anonymous')),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  void keep;
  process.exit(0);
}

function runProbe(name: string, dataDir: string): ProbeResult {
  const out = spawnSync(process.execPath, ['--import', 'tsx', here, '--probe', name, dataDir], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, SOMA_LOG_LEVEL: 'silent', MALLOC_TRIM_THRESHOLD_: trimThresholdBytes as string }, timeout: 120_000 });
  const line = out.stdout.trim().split('\n').pop() ?? '';
  if (out.status !== 0 || !line.startsWith('{')) throw new Error(`probe ${name} failed: ${out.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  return JSON.parse(line) as ProbeResult;
}

export interface IdleBreakdownRow extends ProbeResult {
  what: string;
  /** RSS above the baseline (median of the repeats). */
  cost_mb: number;
}

/** Runs every probe `repeats` times (medians), each in a fresh process, on one PGlite data folder. */
export function measureIdleBreakdown({ repeats = 3, only }: { repeats?: number; only?: string[] } = {}): IdleBreakdownRow[] {
  const base = mkdtempSync(path.join(os.tmpdir(), 'soma-idle-'));
  const dataDir = path.join(base, 'data', 'pglite');
  // Create the cluster once (as the server's first start does, in a child), so probes open an existing one.
  execFileSync(process.execPath, ['--import', 'tsx', '-e', `const { openDatabase } = await import(${JSON.stringify(path.join(repoRoot, 'src/adapters/store/index.ts'))}); const db = await openDatabase({ dataDir: ${JSON.stringify(dataDir)} }); await db.migrate(); await db.close();`], { cwd: repoRoot, input: '' });
  const names = only ?? Object.keys(probes);
  const med = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const results = new Map<string, ProbeResult[]>();
  for (let r = 0; r < repeats; r++) for (const name of ['baseline', ...names.filter((n) => n !== 'baseline')]) {
    if (!results.has(name)) results.set(name, []);
    results.get(name)!.push(runProbe(name, dataDir));
  }
  const median = (name: string): ProbeResult => {
    const list = results.get(name)!;
    const pick = (k: keyof ProbeResult) => med(list.map((x) => x[k] as number));
    return { probe: name, rss_mb: pick('rss_mb'), heap_used_mb: pick('heap_used_mb'), external_mb: pick('external_mb'), array_buffers_mb: pick('array_buffers_mb'), anon_mb: pick('anon_mb'), file_mb: pick('file_mb') };
  };
  const baseline = median('baseline');
  return [...results.keys()].map((name) => {
    const m = median(name);
    return { ...m, what: probes[name]!.what, cost_mb: Math.round((m.rss_mb - baseline.rss_mb) * 10) / 10 };
  });
}

const args = process.argv.slice(2);
if (args[0] === '--probe') await probe(args[1]!, args[2]!);
else if (import.meta.url === `file://${process.argv[1]}`) {
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1]!.split(',') : undefined;
  const repeats = args.includes('--repeats') ? Number(args[args.indexOf('--repeats') + 1]) : 3;
  const rows = measureIdleBreakdown({ repeats, ...(only ? { only } : {}) });
  console.log(`idle memory by part (${repeats} fresh processes each, medians; RSS after a memory-reducing collection; cost = RSS above the baseline; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')})`);
  console.table(rows.map(({ probe: name, what, cost_mb, rss_mb, heap_used_mb, external_mb, anon_mb, file_mb }) => ({ probe: name, what, cost_mb, rss_mb, heap_used_mb, external_mb, anon_mb, file_mb })));
}
