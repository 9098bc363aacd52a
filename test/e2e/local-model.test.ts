import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createSoma, type Soma } from '../../src/main.js';
import { createModelFactory } from '../../src/adapters/model/model-factory.js';
import type { ModelCallOptions } from '../../src/ports/chat-model.js';
import type { ModelFactory } from '../../src/ports/model-factory.js';
import { replay } from '../support/replay.js';
import { freshDatabase } from '../support/databases.js';
import { services, skipWithout } from '../support/services.js';
import { ADMIN_TOKEN, readEvents, spawnServer } from '../support/soma.js';

const run = promisify(execFile);

/** The real local model (SmolLM2-135M-Instruct from the PyPI wheel, `SOMA_TEST_MODEL`) through the whole server. */
describe.skipIf(skipWithout('modelPath'))('chat through the real local model', () => {
  let soma: Soma;
  let drop: () => Promise<void>;
  let key: string;
  let conversationId: string;
  let closeModels: () => Promise<void>;
  const prompts: ModelCallOptions[] = [];

  beforeAll(async () => {
    const db = await freshDatabase('pglite');
    drop = db.drop;
    const config = loadConfig({
      SOMA_MODEL: `local:${services.modelPath}`,
      SOMA_ADMIN_TOKEN: ADMIN_TOKEN,
      SOMA_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'soma-local-')),
      SOMA_CONTEXT_TOKENS: '2048',
      SA01_RLM_MAX_ITERATIONS: '3',
    });
    // The real model factory (trusting the operator's model, as the composition root does), with every call's messages recorded (what the model is shown).
    const factory = createModelFactory({ contextTokens: 2048, operatorModels: [config.model] });
    const models: ModelFactory = {
      describe: (spec) => factory.describe(spec),
      get: (spec) => {
        const real = factory.get(spec);
        return { ...real, id: real.id, capabilities: real.capabilities, countTokens: (text) => real.countTokens(text), stream: (options) => (prompts.push(options), real.stream(options)) };
      },
    };
    closeModels = () => factory.closeAll();
    soma = await createSoma({ config, database: db.database, logger: pino({ level: 'silent' }), models });
    const tenant = (await (await soma.app.request('/v1/admin/tenants', { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'local' }) })).json()) as { api_key: string };
    key = tenant.api_key;
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const capsule = (await (await soma.app.request('/v1/capsules', { method: 'POST', headers, body: JSON.stringify({ name: 'smollm2', system_prompt: 'Answer the question in one short sentence.', rlm_min_iterations: 2, tools: [{ name: 'calculator' }] }) })).json()) as { id: string };
    conversationId = ((await (await soma.app.request('/v1/conversations', { method: 'POST', headers, body: JSON.stringify({ capsule_id: capsule.id }) })).json()) as { id: string }).id;
  }, 180_000);
  afterAll(async () => {
    await soma?.close();
    await closeModels?.();
    await drop?.();
  });

  const send = async (content: string) =>
    readEvents(
      await soma.app.request(`/v1/conversations/${conversationId}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ content }),
      }),
    );

  it('answers "Paris" over ≥ 2 iterations and records scores, exit reason and a replayable trace', async () => {
    const events = await send('What is the capital of France?');
    const deltas = events.filter((e) => e.event === 'iteration.delta');
    expect(deltas.length).toBeGreaterThan(1);
    const completed = events.find((e) => e.event === 'turn.completed')!.data;
    expect(String(completed.content)).toContain('Paris');
    expect(events.filter((e) => e.event === 'tool.call')).toEqual([]);
    expect(Number(completed.iterations)).toBeGreaterThanOrEqual(2);
    expect(['converged', 'llm_completed', 'plateau', 'loop_detected', 'max_iterations', 'budget_exhausted']).toContain(completed.exit_reason);
    const iterations = events.filter((e) => e.event === 'iteration.completed').map((e) => e.data);
    for (const it of iterations) {
      expect(typeof it.convergence_score).toBe('number');
      expect(it.confidence === null || (Number(it.confidence) > 0 && Number(it.confidence) <= 1)).toBe(true);
      expect(Number(it.completion_tokens)).toBeGreaterThan(0);
    }
    const report = await replay(soma, String(completed.turn_id));
    expect(report.differences).toEqual([]);
  }, 240_000);

  it('calls the calculator, and the next iteration sees the call and its result as tool messages, never as user text', async () => {
    prompts.length = 0;
    const events = await send('What is 123 * 456?');
    const call = events.find((e) => e.event === 'tool.call')!.data;
    expect(call).toMatchObject({ iteration: 0, name: 'calculator' });
    expect(events.find((e) => e.event === 'tool.result')!.data).toMatchObject({ ok: true, result: { result: 56088 } });
    const next = prompts[1]!.messages;
    const assistant = next.find((m) => m.role === 'assistant' && m.toolCalls?.length);
    expect(assistant).toMatchObject({ role: 'assistant', toolCalls: [{ name: 'calculator' }] });
    expect(next.find((m) => m.role === 'tool')).toMatchObject({ role: 'tool', toolName: 'calculator', content: '{"result":56088}' });
    expect(next.filter((m) => m.role === 'user').some((m) => m.content.includes('56088'))).toBe(false);
    expect(next.some((m) => m.role === 'assistant' && m.content.trim() === '' && !m.toolCalls?.length)).toBe(false);
    const completed = events.find((e) => e.event === 'turn.completed')!.data;
    expect(String(completed.content).replace(/,/g, '')).toContain('56088');
    expect(completed.tools_used).toEqual(['calculator']);
    const report = await replay(soma, String(completed.turn_id));
    expect(report.differences).toEqual([]);
  }, 240_000);
});

describe.skipIf(skipWithout('modelPath'))('soma chat in a terminal with the real local model', () => {
  it('streams an answer from `soma serve` to `soma chat -m`', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'soma-chat-'));
    const env = { ...process.env, SOMA_DATA_DIR: dataDir, SOMA_MODEL: `local:${services.modelPath}`, SOMA_CONTEXT_TOKENS: '2048', SA01_RLM_CONVERGENCE_THRESHOLD: '' };
    const server = await spawnServer(env, []);
    const port = server.port;
    try {
      expect(readFileSync(path.join(dataDir, 'api-key'), 'utf8')).toMatch(/^soma_/);
      const { stdout } = await run('node', ['bin/soma.mjs', 'chat', '--url', `http://127.0.0.1:${port}`, '-m', 'What is the capital of France?'], { env, timeout: 200_000 });
      expect(stdout).toContain('[iteration 0]');
      expect(stdout.split('\n').filter((line) => line.includes('Paris')).length).toBeGreaterThan(0);
      expect(stdout).toMatch(/\(\d+ iterations · \w+ · turn [0-9a-f-]{36}\)/);
    } finally {
      await server.stop();
    }
  }, 240_000);
});
