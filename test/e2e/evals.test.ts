import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/databases.js';
import { spawnServer, startTestSoma, type TestSoma } from '../support/soma.js';

const run = promisify(execFile);

/** Right on "capital", a calculator round on "6*7", wrong on everything else. */
const script = {
  turns: [
    { match: 'capital', iterations: [{ text: 'The capital of France is Paris.', logprobs: [-0.05, -0.05] }] },
    {
      match: '6*7',
      iterations: [
        { text: '', tool_calls: [{ name: 'calculator', args: { expression: '6*7' } }], logprobs: [-0.1] },
        { text: 'It is 42.', logprobs: [-0.05] },
      ],
    },
    { iterations: [{ text: 'I do not know.', logprobs: [-0.9, -1.2] }] },
  ],
};

const dataset = {
  name: 'mini',
  setup: { system_prompt: 'Answer in one short sentence.', tools: ['calculator'], memories: [{ content: 'The office opens at 8 am.' }] },
  items: [
    { input: 'What is the capital of France?', expected: 'Paris', match: 'contains', tags: ['geo'] },
    { input: 'What is 6*7?', expected: 42, match: 'number' },
    { input: "What is Mira's locker code?", expected: '4417', match: 'contains', memories: [{ key: 'mira', content: "Mira's locker code is 4417." }] },
  ],
};

interface EvalRunBody {
  id: string;
  eval: string;
  status: string;
  done: number;
  total: number;
  runs: { name: string; n: number; accuracy: number; mean_iterations: number; exit_reasons: Record<string, number>; tokens: number; p50_ms: number; p95_ms: number }[];
  results: { configuration: string; item: number; answer: string; correct: boolean; turn_id: string; iterations: number; tools_used: string[]; tags: string[] }[];
}

describe.each(drivers())('eval runs over the API (%s)', (driver) => {
  let t: TestSoma;
  let key: string;
  let other: string;

  beforeAll(async () => {
    t = await startTestSoma({ driver, script });
    key = (await t.tenant('acme')).api_key;
    other = (await t.tenant('other')).api_key;
  });
  afterAll(async () => t?.close());

  const waitFor = async (id: string): Promise<EvalRunBody> => {
    for (let i = 0; i < 200; i++) {
      const body = (await (await t.request('GET', `/v1/evals/${id}`, { key })).json()) as EvalRunBody;
      if (body.status !== 'running') return body;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the eval did not finish');
  };

  it('starts a run in the background, runs every item under each configuration through the turn path, and serves the results', async () => {
    const response = await t.request('POST', '/v1/evals', { key, body: { ...dataset, compare: ['single-shot', 'rlm'] } });
    expect(response.status).toBe(202);
    const started = (await response.json()) as EvalRunBody;
    expect(started).toMatchObject({ eval: 'mini', status: 'running', total: 6 });

    const finished = await waitFor(started.id);
    expect(finished.status).toBe('completed');
    expect(finished.results).toHaveLength(6);
    const [single, rlm] = finished.runs;
    expect(single).toMatchObject({ name: 'single-shot', n: 3, mean_iterations: 1 });
    // Single shot offers no tools (its only iteration could not use a result): 6*7 goes unanswered.
    expect(single!.accuracy).toBeCloseTo(1 / 3, 3);
    expect(rlm).toMatchObject({ name: 'rlm', n: 3 });
    expect(rlm!.accuracy).toBeCloseTo(2 / 3, 3);
    for (const summary of finished.runs) expect(Object.keys(summary).sort()).toEqual(['accuracy', 'exit_reasons', 'mean_iterations', 'n', 'name', 'p50_ms', 'p95_ms', 'tokens']);
    expect(rlm!.tokens).toBeGreaterThan(0);

    const arithmetic = finished.results.find((r) => r.configuration === 'rlm' && r.item === 1)!;
    expect(arithmetic).toMatchObject({ answer: 'It is 42.', correct: true, tools_used: ['calculator'] });
    expect(arithmetic.iterations).toBeGreaterThanOrEqual(2);
    expect(finished.results.find((r) => r.item === 0)!.tags).toEqual(['geo']);

    // The memory item's capsule was given its memory (and the setup's): the turn's trace shows them recalled.
    const memoryTurn = finished.results.find((r) => r.configuration === 'rlm' && r.item === 2)!.turn_id;
    const trace = (await (await t.request('GET', `/v1/trace/${memoryTurn}`, { key })).json()) as { iterations: { metadata: { memories: { content: string }[] } }[] };
    expect(trace.iterations[0]!.metadata.memories.map((m) => m.content)).toContain("Mira's locker code is 4417.");

    const list = (await (await t.request('GET', '/v1/evals', { key })).json()) as { evals: EvalRunBody[] };
    expect(list.evals.map((e) => e.id)).toContain(started.id);
    expect(list.evals.find((e) => e.id === started.id)!.runs).toHaveLength(2);
  });

  it('keeps runs to their tenant', async () => {
    const mine = (await (await t.request('GET', '/v1/evals', { key })).json()) as { evals: EvalRunBody[] };
    const id = mine.evals[0]!.id;
    expect((await t.request('GET', `/v1/evals/${id}`, { key: other })).status).toBe(404);
    expect(((await (await t.request('GET', '/v1/evals', { key: other })).json()) as { evals: unknown[] }).evals).toEqual([]);
    expect((await t.request('GET', `/v1/evals/${id}`)).status).toBe(401);
  });

  it('refuses a bad dataset with the item that is wrong, and writes nothing', async () => {
    const response = await t.request('POST', '/v1/evals', { key: other, body: { name: 'bad', items: [dataset.items[0], { input: 'x', expected: 'y', match: 'fuzzy' }] } });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; details: { path: string }[] } };
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.details[0]!.path).toBe('items.1');
    const judged = await t.request('POST', '/v1/evals', { key: other, body: { name: 'judged', items: [{ input: 'x', expected: 'y', match: 'judge' }] } });
    expect(judged.status).toBe(400);
    expect(((await judged.json()) as { error: { message: string } }).error.message).toContain('SOMA_EVAL_JUDGE_MODEL');
    const unknownConfiguration = await t.request('POST', '/v1/evals', { key: other, body: { name: 'x', items: [dataset.items[0]], compare: ['best-of-8'] } });
    expect(unknownConfiguration.status).toBe(400);
    expect(((await (await t.request('GET', '/v1/evals', { key: other })).json()) as { evals: unknown[] }).evals).toEqual([]);
  });

  it('publishes the eval routes in /openapi.json', async () => {
    const doc = (await (await t.request('GET', '/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/v1/evals']!).sort()).toEqual(['get', 'post']);
    expect(doc.paths['/v1/evals/{id}']!.get).toBeDefined();
  });
});

/** The operator's judge (SOMA_EVAL_JUDGE_MODEL) grades `match: "judge"` items: its verdict is the result, not a string match. */
describe.each(drivers())('eval items graded by the operator\'s judge model (%s)', (driver) => {
  let t: TestSoma;
  let key: string;

  const answers = {
    turns: [
      { match: 'capital', iterations: [{ text: 'The capital of France is Paris.', logprobs: [-0.05] }] },
      { match: 'ocean', iterations: [{ text: 'The Pacific.', logprobs: [-0.05] }] },
      { iterations: [{ text: 'I do not know.', logprobs: [-0.05] }] },
    ],
  };
  // The judge answers only for the exact question, expected answer and answer it was shown.
  const judgeScript = {
    turns: [
      { match: 'Question: What is the capital of France?\nExpected answer: Paris\nAnswer to grade: The capital of France is Paris.', iterations: [{ text: 'YES' }] },
      // It disagrees with a string match: "The Pacific." contains "Pacific", and the judge says no.
      { match: 'Question: Which is the largest ocean?\nExpected answer: the Pacific, by far\nAnswer to grade: The Pacific.', iterations: [{ text: 'NO' }] },
      // "I do not know." contains nothing of the expected answer, and the judge accepts it.
      { match: 'Question: Who wins the next lottery?\nExpected answer: nobody can know\nAnswer to grade: I do not know.', iterations: [{ text: 'Yes, that is correct.' }] },
      { iterations: [{ text: 'maybe' }] },
    ],
  };
  const judged = {
    name: 'judged',
    items: [
      { input: 'What is the capital of France?', expected: 'Paris', match: 'judge' },
      { input: 'Which is the largest ocean?', expected: 'the Pacific, by far', match: 'judge' },
      { input: 'Who wins the next lottery?', expected: 'nobody can know', match: 'judge' },
      { input: 'What colour is a ruby?', expected: 'red', match: 'judge' },
    ],
  };

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-eval-judge-'));
    const judgeFile = path.join(dir, 'judge.json');
    writeFileSync(judgeFile, JSON.stringify(judgeScript));
    t = await startTestSoma({ driver, script: answers, env: { SOMA_EVAL_JUDGE_MODEL: `scripted:${judgeFile}` } });
    key = (await t.tenant('judged')).api_key;
  });
  afterAll(async () => t?.close());

  it('stores the judge\'s verdict for each item and counts it in the accuracy', async () => {
    const response = await t.request('POST', '/v1/evals', { key, body: { ...judged, compare: ['rlm'] } });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as EvalRunBody;
    let finished: EvalRunBody & { results: (EvalRunBody['results'][number] & { detail: string | null })[] } = { status: 'running' } as never;
    for (let i = 0; i < 200 && finished.status === 'running'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      finished = (await (await t.request('GET', `/v1/evals/${id}`, { key })).json()) as typeof finished;
    }
    expect(finished.status).toBe('completed');
    const byItem = [...finished.results].sort((a, b) => a.item - b.item).map((r) => ({ answer: r.answer, correct: r.correct, detail: r.detail }));
    expect(byItem).toEqual([
      { answer: 'The capital of France is Paris.', correct: true, detail: 'judge: yes' },
      { answer: 'The Pacific.', correct: false, detail: 'judge: no' },
      { answer: 'I do not know.', correct: true, detail: 'judge: yes' },
      // A reply without YES or NO is not a pass.
      { answer: 'I do not know.', correct: false, detail: 'judge: no verdict' },
    ]);
    expect(finished.runs).toMatchObject([{ name: 'rlm', n: 4, accuracy: 0.5 }]);
  });
});

describe('soma eval on the command line', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-eval-cli-'));
  const scriptFile = path.join(dir, 'script.json');
  const datasetFile = path.join(dir, 'mini.jsonl');
  const env = { ...process.env, SOMA_DATA_DIR: path.join(dir, 'data'), SOMA_MODEL: `scripted:${scriptFile}`, SOMA_LOG_LEVEL: 'silent' };
  beforeAll(() => {
    // The 6*7 turn takes a moment: long enough to stop the command while it runs.
    const slow = { turns: script.turns.map((turn) => (turn.match === '6*7' ? { ...turn, iterations: turn.iterations.map((it) => ({ ...it, latency_ms: 1500 })) } : turn)) };
    writeFileSync(scriptFile, JSON.stringify(slow));
    writeFileSync(datasetFile, [JSON.stringify({ setup: dataset.setup }), ...dataset.items.map((item) => JSON.stringify(item))].join('\n'));
  });

  const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as { eval: string; runs: EvalRunBody['runs'] };

  it('runs in process, resumes a stopped run, and prints a table with the JSON line last', async () => {
    // Stop the first run while its second item runs (SIGINT), then run the same command again.
    const first = spawn('node', ['bin/soma.mjs', 'eval', datasetFile, '--compare', 'single-shot,rlm'], { env });
    let stderr = '';
    first.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (/eval [23]\/6/.test(stderr)) {
          clearInterval(poll);
          first.kill('SIGINT');
          resolve();
        }
      }, 50);
    });
    const code = await new Promise((resolve) => first.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('run the same command again to resume it');

    const { stdout, stderr: again } = await run('node', ['bin/soma.mjs', 'eval', datasetFile, '--compare', 'single-shot,rlm'], { env, timeout: 120_000 });
    expect(again).toMatch(/resuming eval run [0-9a-f-]{36}/);
    expect(stdout).toMatch(/configuration\s+n\s+accuracy\s+mean iter\.\s+exit reasons\s+tokens\s+p50 ms\s+p95 ms/);
    const line = lastJson(stdout);
    expect(line.eval).toBe('mini');
    expect(line.runs.map((r) => [r.name, r.n])).toEqual([
      ['single-shot', 3],
      ['rlm', 3],
    ]);
    expect(line.runs[1]!.accuracy).toBeCloseTo(2 / 3, 3);
  }, 180_000);

  it('fails with --min-accuracy when a configuration scores below it', async () => {
    const error = (await run('node', ['bin/soma.mjs', 'eval', datasetFile, '--compare', 'single-shot', '--min-accuracy', '0.9'], { env, timeout: 120_000 }).catch((caught: unknown) => caught)) as { code: number; stdout: string; stderr: string };
    expect(error.code).toBe(1);
    expect(error.stderr).toContain('below --min-accuracy 0.9');
    expect(lastJson(error.stdout).runs[0]!.name).toBe('single-shot');
  }, 120_000);

  it('runs on a server with --url and names the line of a bad dataset', async () => {
    const serverDir = mkdtempSync(path.join(os.tmpdir(), 'soma-eval-url-'));
    const server = await spawnServer({ ...env, SOMA_DATA_DIR: serverDir, SOMA_LOG_LEVEL: 'info' });
    try {
      const key = (await import('node:fs')).readFileSync(path.join(serverDir, 'api-key'), 'utf8').trim();
      const { stdout } = await run('node', ['bin/soma.mjs', 'eval', datasetFile, '--compare', 'rlm', '--url', server.url, '--api-key', key], { env, timeout: 120_000 });
      expect(lastJson(stdout).runs).toMatchObject([{ name: 'rlm', n: 3 }]);
      const bad = path.join(dir, 'bad.jsonl');
      writeFileSync(bad, '{"input": "q", "expected": "a", "match": "exact"}\n{"input": "q"}\n');
      const error = (await run('node', ['bin/soma.mjs', 'eval', bad, '--url', server.url, '--api-key', key], { env }).catch((caught: unknown) => caught)) as { code: number; stderr: string };
      expect(error.code).toBe(1);
      expect(error.stderr).toMatch(/line 2: /);
    } finally {
      await server.stop();
    }
  }, 180_000);
});
