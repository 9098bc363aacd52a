/**
 * The first answer from a fresh start (issue 11's done-when): with the default local model cached,
 * `soma serve` on a new data folder (the built bin, as `npm start` runs it, with the default model and
 * the embedded database), then `soma chat -m "What is the capital of France?"` as a child process.
 * Reports per run: serve start → /readyz, serve start → answer, the chat command alone, and whether the
 * answer says Paris; then "met"/"not met" against 10 s for both times. Last line JSON.
 *   BENCH_RUNS  runs, each on a new data folder (default 3)
 * Usage: node --import tsx bench/first-answer.ts   (`npm run build` first; the model is pulled if missing)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const QUESTION = 'What is the capital of France?';
const BAR_MS = 10_000;
const bin = path.resolve('bin/soma.mjs');

/** The environment of a new user's `npm start`: the defaults, nothing of the operator's set-up (models folder aside). */
function userEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SOMA_DATA_DIR: dataDir, SOMA_LOG_LEVEL: 'info' };
  for (const name of ['SOMA_MODEL', 'SOMA_MODEL_PRELOAD', 'DATABASE_URL', 'KAFKA_BROKERS', 'OPA_URL', 'SOMA_BRAIN_URL', 'SOMA_ADMIN_TOKEN', 'SOMA_URL', 'SOMA_API_KEY', 'PORT', 'HOST']) delete env[name];
  for (const name of Object.keys(env)) if (name.startsWith('SA01_') || name.startsWith('SOMA_TEST_')) delete env[name];
  return env;
}

interface Run {
  run: number;
  ready_ms: number;
  /** serve started → the chat command exited with the answer. */
  start_to_answer_ms: number;
  /** The `soma chat -m` child process alone (started once /readyz answered). */
  chat_ms: number;
  paris: boolean;
  answer: string;
  load_before: number;
}

async function once(run: number): Promise<Run> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'soma-first-answer-'));
  const env = userEnv(dataDir);
  const loadBefore = os.loadavg()[0]!;
  const started = performance.now();
  const serve = spawn(process.execPath, [bin, 'serve', '--port', '0', '--host', '127.0.0.1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  serve.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        const match = /"port":(\d+)/.exec(log);
        if (!match) return;
        serve.stdout.off('data', onData);
        serve.stdout.resume();
        resolve(Number(match[1]));
      };
      serve.stdout.on('data', onData);
      serve.once('exit', (code) => reject(new Error(`soma serve exited ${code}: ${log.slice(-2000)}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    while (!(await fetch(`${url}/readyz`).then((r) => r.ok, () => false))) await new Promise((r) => setTimeout(r, 20));
    const ready = performance.now();
    const chat = spawn(process.execPath, [bin, 'chat', '--url', url, '-m', QUESTION], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    chat.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    chat.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => chat.once('exit', resolve));
    const answered = performance.now();
    if (code !== 0) throw new Error(`soma chat exited ${code}: ${err.slice(-1000)}`);
    // The answer is the line printed after the streamed iterations, before "(n iterations · …)".
    // eslint-disable-next-line no-control-regex
    const lines = out.replace(/\x1b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim()).filter(Boolean);
    const summary = lines.findLastIndex((l) => /^\(\d+ iterations? · /.test(l));
    const answer = summary > 0 ? lines[summary - 1]! : (lines.at(-1) ?? '');
    return {
      run,
      ready_ms: Math.round(ready - started),
      start_to_answer_ms: Math.round(answered - started),
      chat_ms: Math.round(answered - ready),
      paris: /\bParis\b/.test(answer),
      answer: answer.slice(0, 200),
      load_before: Math.round(loadBefore * 10) / 10,
    };
  } finally {
    if (serve.exitCode === null && serve.signalCode === null) {
      const exited = new Promise((done) => serve.once('exit', done));
      serve.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// As a user runs it: the compiled build (`npm install` makes it). A stale one would make bin/soma.mjs run the sources through tsx, seconds slower.
// @ts-expect-error -- a plain ES module without types
const { buildIsCurrent } = (await import('../bin/compiled-build.mjs')) as { buildIsCurrent: () => boolean };
if (!buildIsCurrent()) {
  console.error('dist/ is not built from the current sources: run `npm run build` first (bin/soma.mjs would run the TypeScript sources through tsx)');
  process.exit(1);
}

// The model is cached first (`soma model pull` answers at once when it is), so no run times a download.
const pullDir = mkdtempSync(path.join(os.tmpdir(), 'soma-first-answer-pull-'));
const pull = spawnSync(process.execPath, [bin, 'model', 'pull'], { env: userEnv(pullDir), encoding: 'utf8' });
rmSync(pullDir, { recursive: true, force: true });
if (pull.status !== 0) {
  console.error(`soma model pull failed: ${pull.stderr}`);
  process.exit(1);
}
console.error(pull.stderr.trim());

const runs: Run[] = [];
for (let i = 1; i <= RUNS; i++) {
  const result = await once(i);
  runs.push(result);
  console.error(`run ${i}/${RUNS}: ready ${result.ready_ms} ms, answer ${result.start_to_answer_ms} ms after start (chat ${result.chat_ms} ms), Paris ${result.paris ? 'yes' : 'no'}, load ${result.load_before}`);
}
const verdict = (ok: boolean) => (ok ? 'met' : 'not met');
const allParis = runs.every((r) => r.paris);
const maxOf = (key: 'start_to_answer_ms' | 'chat_ms' | 'ready_ms') => Math.max(...runs.map((r) => r[key]));
console.table(runs.map(({ answer, ...rest }) => ({ ...rest, answer: answer.slice(0, 48) })));
const summary = {
  bench: 'first-answer',
  question: QUESTION,
  runs: RUNS,
  bar_ms: BAR_MS,
  all_paris: allParis,
  max_ready_ms: maxOf('ready_ms'),
  max_start_to_answer_ms: maxOf('start_to_answer_ms'),
  max_chat_ms: maxOf('chat_ms'),
  // Against 10 s: counted from `soma serve` starting, and for the chat command alone (started once the server is ready).
  from_start: verdict(allParis && maxOf('start_to_answer_ms') < BAR_MS),
  chat_alone: verdict(allParis && maxOf('chat_ms') < BAR_MS),
  load_average: os.loadavg().map((l) => Math.round(l * 10) / 10),
  results: runs,
};
console.log(`first answer: from start ${summary.from_start} (max ${summary.max_start_to_answer_ms} ms), chat alone ${summary.chat_alone} (max ${summary.max_chat_ms} ms), Paris in ${runs.filter((r) => r.paris).length}/${RUNS}`);
console.log(JSON.stringify(summary));
