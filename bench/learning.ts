/**
 * End-to-end learning benchmark (SPEC §13.2): `npm run bench:learning`.
 *
 * Every turn runs the product's own path — `sendMessage` → recall → memory lane (`buildContext`) → the
 * environment model (`environment:<file>`, which answers correctly only when the needed fact is the
 * first memory on its topic in its context) → learning step → database — and the bench, as the user,
 * posts feedback through `postFeedback` (+1 right, −1 wrong or unknown). Worlds: stable facts, changing
 * facts, noisy memories, cost-sensitive, and a zero-mean control whose confidence and feedback ignore
 * the context. A world's optimum is a grid search over the same environment: the expected reward of a
 * turn (mean over the world's questions) under fixed weights, computed by the same recall, context
 * builder, model and reward function with nothing explored. `ratio_of_gain = (end − start)/(optimum −
 * start)` on that yardstick. Prints a table, writes an SVG plot (`.cache/bench/learning.svg`, and
 * `docs/images/learning.svg` with `--write-docs`) and ends with one JSON line.
 *
 *   BENCH_TURNS     turns per world (default 2,000)
 *   BENCH_WORLDS    comma-separated world names to run (default all)
 *   BENCH_JOBS      worlds run at once, each in its own process (default 2)
 *   DATABASE_URL    run on PostgreSQL instead of in-memory PGlite
 *   BENCH_CONFIG    JSON merged into every capsule's learning_config (to try a design change before making it the default)
 *   BENCH_PROBE     also print, per world, E[r] at the end weights with one weight back at its start, and swept over the grid
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { openDatabase } from '../src/adapters/store/index.js';
import { postFeedback } from '../src/app/feedback/index.js';
import { createConversation } from '../src/app/conversations.js';
import { createCapsule } from '../src/app/capsules/index.js';
import { sendMessage } from '../src/app/send-message/index.js';
import { createTenant } from '../src/app/tenancy.js';
import { loadConfig } from '../src/config.js';
import { allocateLanes, buildContext } from '../src/core/context/index.js';
import { computeReward, resolveLearningConfig, type LearningConfig } from '../src/core/learning/index.js';
import { confidenceOf } from '../src/core/turn/index.js';
import { createSoma } from '../src/main.js';
import { weightNames, type Weights } from '../src/ports/learning.js';
import type { ModelStreamPart } from '../src/ports/chat-model.js';
import { changingFacts, control, costSensitive, noisyMemories, prng, questionOf, stableFacts, type World } from './learning-worlds.js';
import { writePlot } from './learning-plot.js';
import { completed } from './support/unwrap.js';

const TURNS = Number(process.env.BENCH_TURNS ?? 2000);
const ONLY = process.env.BENCH_WORLDS?.split(',').map((s) => s.trim());
const STEP_SECONDS = 60;
const SYSTEM_PROMPT = 'You answer questions about the office from your notes.';
/** Every bench capsule: nothing is remembered from its own turns (the world's store is the bench's). */
const COMMON_CONFIG = { memory_min_quality: 1 };

const started = Date.now();
let now = Date.parse('2026-12-01T09:00:00Z');
const clock = { now: () => now };
const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-bench-learning-'));
const environmentFile = (name: string) => path.join(dir, `${name}.json`);
const worldArgument = process.argv.indexOf('--world');

/** One world's process: its own database (in-memory PGlite, or PostgreSQL), Soma, tenant. */
async function openBench() {
  const database = process.env.DATABASE_URL ? await openDatabase({ databaseUrl: process.env.DATABASE_URL }) : await openDatabase({ dataDir: 'memory://' });
  if (process.env.DATABASE_URL) await database.migrate();
  const config = loadConfig({ SOMA_MODEL: `environment:${environmentFile('default')}`, SOMA_DATA_DIR: dir, SOMA_LOG_LEVEL: 'silent', SOMA_TENANT_TURNS_PER_MINUTE: '0', SOMA_ALLOW_SCRIPTED_MODELS: 'true' });
  writeFileSync(environmentFile('default'), JSON.stringify({ facts: [] }));
  const soma = await createSoma({ config, database, clock, logger: pino({ level: 'silent' }) });
  const tenant = await createTenant(soma.ctx, { name: `bench-${Date.now()}-${process.pid}` });
  return { database, soma, ctx: soma.ctx, caller: { tenantId: tenant.id, userId: tenant.user_id } };
}
type Bench = Awaited<ReturnType<typeof openBench>>;
let bench: Bench;
const ctxOf = () => bench.ctx;

interface Series {
  reward: number[];
  weights: Weights[];
}

interface WorldResult {
  name: string;
  description: string;
  optimum: { weights: Partial<Weights>; reward: number };
  start_reward: number;
  end_reward: number;
  ratio_of_gain: number | null;
  start: Weights;
  end: Weights;
  accuracyFirst: number;
  accuracyLast: number;
  learningRows: number;
  seconds: number;
  series: Series;
}

async function setUpWorld(world: World) {
  const file = environmentFile(world.name);
  const writeEnvironment = (facts: World['facts']) => writeFileSync(file, JSON.stringify({ facts, control: world.control ?? false }));
  writeEnvironment(world.facts);
  const learningConfig = { ...COMMON_CONFIG, ...world.learningConfig, ...(process.env.BENCH_CONFIG ? (JSON.parse(process.env.BENCH_CONFIG) as Record<string, unknown>) : {}) };
  const { ctx, caller } = bench;
  const capsule = await createCapsule({ ...ctx }, { caller, input: { name: world.name, system_prompt: SYSTEM_PROMPT, model: `environment:${file}`, rlm_max_iterations: 1, learning_config: learningConfig } });
  if (!capsule.ok) throw new Error(capsule.error.message);
  const scope = { tenantId: caller.tenantId, capsuleId: capsule.value.id, userId: caller.userId };
  const remember = async (memories: World['memories']) => {
    for (const memory of memories) {
      const at = now;
      now -= memory.ageSeconds * 1000;
      await ctx.brain.remember(scope, { key: memory.key, content: memory.content, importance: memory.importance });
      now = at;
    }
  };
  await remember(world.memories);
  return { capsuleId: capsule.value.id, scope, config: resolveLearningConfig(learningConfig), writeEnvironment, remember };
}

/**
 * The expected reward of one turn under fixed `weights`: for every question of the world, the same
 * recall, memory lane, environment model and reward function a turn uses, with nothing explored.
 */
async function expectedReward(world: World, scope: { tenantId: string; capsuleId: string; userId: string }, learning: LearningConfig, weights: Weights): Promise<number> {
  const ctx = ctxOf();
  const model = ctx.models.get(`environment:${environmentFile(world.name)}`);
  const budgets = allocateLanes({ totalTokens: ctx.settings.contextTokens, degraded: false });
  let sum = 0;
  for (const fact of world.facts) {
    const question = questionOf(fact);
    const recalled = await ctx.brain.recall(scope, { query: question, top_k: 16, weights });
    const context = buildContext({ systemPrompt: SYSTEM_PROMPT, history: [], userMessage: question, memories: recalled, laneWeights: weights, steps: [], iteration: 0, budgets, countTokens: (t) => model.countTokens(t) });
    let output;
    for await (const part of model.stream({ messages: context.messages, tools: [], seed: 1, turn: { userMessage: question, iteration: 0 } }) as AsyncIterable<ModelStreamPart>) if (part.type === 'finish') output = part.output;
    const confidence = confidenceOf(output!);
    const metrics = { confidence, convergence_score: confidence ?? 0, tool_success_rate: 1, latency_ms: 0, prompt_tokens: output!.usage.promptTokens, completion_tokens: output!.usage.completionTokens, novelty: 0, tools_used: [] };
    sum += computeReward({ metrics, config: learning }).reward;
  }
  return sum / world.facts.length;
}

async function gridOptimum(world: World, scope: { tenantId: string; capsuleId: string; userId: string }, learning: LearningConfig, base: Weights) {
  const names = Object.keys(world.grid) as (keyof Weights)[];
  let best = { weights: {} as Partial<Weights>, reward: -Infinity };
  const visit = async (i: number, point: Partial<Weights>): Promise<void> => {
    if (i === names.length) {
      const reward = await expectedReward(world, scope, learning, { ...base, ...point });
      if (reward > best.reward + 1e-12) best = { weights: { ...point }, reward };
      return;
    }
    for (const value of world.grid[names[i]!]!) await visit(i + 1, { ...point, [names[i]!]: value });
  };
  await visit(0, {});
  return best;
}

async function runWorld(world: World, seed: number): Promise<WorldResult> {
  const t0 = Date.now();
  const { ctx, caller } = bench;
  const { capsuleId, scope, config: learning, writeEnvironment, remember } = await setUpWorld(world);
  const random = prng(seed);
  const start = (await ctx.brain.getState(scope)).weights;
  const series: Series = { reward: [], weights: [] };
  const correct: boolean[] = [];
  const timing = { conversation: 0, send: 0, feedback: 0 };
  for (let turn = 0; turn < TURNS; turn += 1) {
    const change = world.changes?.(turn, random);
    if (change) {
      await remember(change.memories);
      world.facts = change.facts;
      writeEnvironment(world.facts);
    }
    const fact = world.facts[Math.floor(random() * world.facts.length)]!;
    const tA = performance.now();
    const conversation = await createConversation(ctx, { caller, capsuleId });
    const tB = performance.now();
    if (!conversation.ok) throw new Error(conversation.error.message);
    const answer = await sendMessage(ctx, { caller, conversationId: conversation.value.id, content: questionOf(fact) });
    if (!answer.ok) throw new Error(answer.error.message);
    const done = completed(answer.value);
    const tC = performance.now();
    const right = done.content.includes(fact.answer);
    correct.push(right);
    const score = world.control ? (random() < 0.5 ? 1 : -1) : right ? 1 : -1;
    const feedback = await postFeedback(ctx, { caller, turnId: done.turn_id, score });
    if (!feedback.ok) throw new Error(feedback.error.message);
    const tD = performance.now();
    timing.conversation += tB - tA;
    timing.send += tC - tB;
    timing.feedback += tD - tC;
    if (process.env.BENCH_DEBUG && turn < Number(process.env.BENCH_DEBUG)) {
      const [iteration] = await ctx.store.iterations.listByTurn(done.turn_id);
      const meta = iteration?.metadata as Record<string, unknown>;
      console.error(JSON.stringify({ turn, lane: meta.lane, sensitive: meta.lane_sensitive, reward: meta.reward, learning: meta.learning, evidence: (await ctx.brain.getState(scope)).evidence }));
    }
    now += STEP_SECONDS * 1000;
  }
  if (process.env.BENCH_TIMING) console.error(`  ${world.name} ms per turn: conversation ${(timing.conversation / TURNS).toFixed(1)}, sendMessage ${(timing.send / TURNS).toFixed(1)}, feedback ${(timing.feedback / TURNS).toFixed(1)}`);
  const end = (await ctx.brain.getState(scope)).weights;
  // The series from the capsule's learning history: each iteration row's reward, and the weights after each turn's last row.
  let after = 0;
  let learningRows = 0;
  for (;;) {
    const page = await ctx.brain.learningHistory(scope, { limit: 500, after });
    if (!page.ok) throw new Error(page.error.message);
    for (const row of page.value.history) {
      learningRows += 1;
      if (row.source === 'iteration' && row.reward !== null) series.reward.push(row.reward);
      else if (row.source === 'feedback') series.weights.push(row.weights_after as unknown as Weights);
    }
    if (!page.value.next_cursor) break;
    after = Number(page.value.next_cursor);
  }
  const tenth = Math.max(1, Math.floor(TURNS / 10));
  const accuracy = (xs: boolean[]) => xs.filter(Boolean).length / Math.max(1, xs.length);
  const result: WorldResult = {
    name: world.name,
    description: world.description,
    optimum: { weights: {}, reward: Number.NaN },
    start_reward: await expectedReward(world, scope, learning, start),
    end_reward: await expectedReward(world, scope, learning, end),
    ratio_of_gain: null,
    start,
    end,
    accuracyFirst: accuracy(correct.slice(0, tenth)),
    accuracyLast: accuracy(correct.slice(-tenth)),
    learningRows,
    seconds: 0,
    series,
  };
  if (!world.control) {
    result.optimum = await gridOptimum(world, scope, learning, start);
    const gain = result.optimum.reward - result.start_reward;
    result.ratio_of_gain = gain > 1e-9 ? (result.end_reward - result.start_reward) / gain : null;
  }
  if (process.env.BENCH_PROBE) {
    // Which learned move limits the end: E[r] at the end weights with one weight returned to its start value.
    for (const name of weightNames) {
      if (Math.abs(end[name] - start[name]) < 1e-12) continue;
      console.error(`  ${world.name} probe: end with ${name} ${end[name].toFixed(3)} → start ${start[name]}: E[r] ${(await expectedReward(world, scope, learning, { ...end, [name]: start[name] })).toFixed(3)}`);
    }
    for (const name of Object.keys(world.grid) as (keyof Weights)[]) {
      const sweep = [];
      for (const value of world.grid[name]!) sweep.push(`${value}: ${(await expectedReward(world, scope, learning, { ...end, [name]: value })).toFixed(3)}`);
      console.error(`  ${world.name} probe: end with ${name} swept: ${sweep.join(', ')}`);
    }
  }
  result.seconds = (Date.now() - t0) / 1000;
  return result;
}

const allWorlds = [stableFacts(11), changingFacts(12), noisyMemories(13), costSensitive(14), control(15)];
if (worldArgument >= 0) {
  // A child: one world, its result as one JSON line.
  const name = process.argv[worldArgument + 1];
  const index = allWorlds.findIndex((w) => w.name === name);
  bench = await openBench();
  const result = await runWorld(allWorlds[index]!, 101 + index);
  await bench.soma.close();
  await bench.database.close();
  writeFileSync(process.argv[worldArgument + 2]!, JSON.stringify(result));
  process.exit(0);
}

// The parent: one child process per world, BENCH_JOBS (default 2, the machine's cores) at a time.
const worlds = allWorlds.filter((w) => !ONLY || ONLY.includes(w.name));
const jobs = Math.max(1, Number(process.env.BENCH_JOBS ?? 2));
const results: WorldResult[] = new Array(worlds.length);
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(jobs, worlds.length) }, async () => {
    while (next < worlds.length) {
      const i = next++;
      const out = path.join(dir, `${worlds[i]!.name}.result.json`);
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--world', worlds[i]!.name, out], { env: process.env, stdio: ['ignore', 'inherit', 'inherit'] });
      const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
      if (code !== 0) throw new Error(`world ${worlds[i]!.name} failed (exit ${code})`);
      results[i] = JSON.parse(readFileSync(out, 'utf8')) as WorldResult;
      console.error(`  ${worlds[i]!.name}: ${results[i]!.seconds.toFixed(0)} s`);
    }
  }),
);

const f = (x: number | null, digits = 3) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(digits));
const learned = ['alpha', 'beta', 'gamma', 'tau', 'lambda', 'mu', 'nu'] as const;
const ranges = resolveLearningConfig(undefined).weights;
console.log(`\nlearning through sendMessage — ${TURNS} turns per world, environment model, ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite in memory'}, seeded\n`);
console.log('world           | optimum E[r] (at)                         | start E[r] | end E[r] | ratio of gain | accuracy first → last 10% | end weights (changed)');
for (const r of results) {
  const at = Object.entries(r.optimum.weights).map(([k, v]) => `${k} ${v}`).join(', ');
  const changed = learned.filter((n) => Math.abs(r.end[n] - r.start[n]) > 1e-12).map((n) => `${n} ${f(r.start[n], 2)}→${f(r.end[n], 3)}`).join(', ');
  console.log(
    [r.name.padEnd(15), `${f(r.optimum.reward)} (${at})`.padEnd(41), f(r.start_reward).padEnd(10), f(r.end_reward).padEnd(8), f(r.ratio_of_gain, 2).padEnd(13), `${f(r.accuracyFirst, 2)} → ${f(r.accuracyLast, 2)}`.padEnd(25), changed || 'none'].join(' | '),
  );
}
const controlRun = results.find((r) => r.name === 'control');
let controlSummary = { max_drift_fraction_of_range: Number.NaN, bounds_hit: [] as string[] };
if (controlRun) {
  const drift = Math.max(...weightNames.map((n) => Math.abs(controlRun.end[n] - controlRun.start[n]) / (ranges[n].max - ranges[n].min)));
  const excursion = Math.max(...controlRun.series.weights.flatMap((w) => weightNames.map((n) => Math.abs(w[n] - controlRun.start[n]) / (ranges[n].max - ranges[n].min))));
  const bounds = [...new Set(controlRun.series.weights.flatMap((w) => weightNames.filter((n) => w[n] <= ranges[n].min || w[n] >= ranges[n].max)))];
  controlSummary = { max_drift_fraction_of_range: drift, bounds_hit: bounds };
  console.log(`\nzero-mean control: max |end − start| ${f(drift * 100, 2)}% of a weight's range (largest excursion ${f(excursion * 100, 2)}%), bounds hit: ${bounds.length === 0 ? 'none' : bounds.join(', ')}`);
}
const seconds = (Date.now() - started) / 1000;
console.log(`runtime ${seconds.toFixed(0)} s (${results.map((r) => `${r.name} ${r.seconds.toFixed(0)} s`).join(', ')})`);

mkdirSync('.cache/bench', { recursive: true });
const svg = writePlot(results.map((r) => ({ name: r.name, reward: r.series.reward, weights: r.series.weights, ranges })));
writeFileSync('.cache/bench/learning.svg', svg);
if (process.argv.includes('--write-docs')) writeFileSync('docs/images/learning.svg', svg);
console.log('plot: .cache/bench/learning.svg');

console.log(
  JSON.stringify({
    bench: 'learning',
    path: 'sendMessage',
    worlds: results.filter((r) => r.name !== 'control').map((r) => ({ name: r.name, optimum_reward: r.optimum.reward, start_reward: r.start_reward, end_reward: r.end_reward, ratio_of_gain: r.ratio_of_gain })),
    control: controlSummary,
  }),
);
