import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Script } from '../../src/adapters/model/scripted/index.js';
import { drivers } from '../support/databases.js';
import { faultCounts } from '../support/fault-counts.js';
import { startTestSoma, type TestSoma } from '../support/soma.js';

/**
 * SPEC §11 fault row "LLM errors": a scripted provider that fails 20% of all calls — timeouts, 429,
 * 5xx and malformed tool calls — through the real server. Every turn ends with an answer or an
 * explicit `error`, never stuck, never half-written; the one retry policy (every provider, the
 * scripted one too) retries the first call before a turn gives up.
 */

const TURNS = 100;
const CONCURRENCY = 10;

const script: Script = {
  faults: { rate: 0.2, kinds: ['timeout', 'rate_limit', 'server_error', 'malformed_tool_call'], seed: 14, tool: 'calculator' },
  turns: [{ iterations: [{ text: 'Let me think about it.', logprobs: [-0.4] }, { text: 'The answer is 42.', logprobs: [-0.01], final: true }] }],
};

interface Outcome {
  answered: number;
  errors: number;
  emptyErrors: number;
  stuck: number;
  halfWritten: number;
  missingEvents: number;
}

async function runTurns(t: TestSoma): Promise<Outcome> {
  const key = (await t.tenant()).api_key;
  const capsule = ((await (await t.request('POST', '/v1/capsules', { key, body: { name: 'flaky', system_prompt: 's', tools: [{ name: 'calculator' }] } })).json()) as { id: string }).id;
  const conversations: string[] = [];
  for (let i = 0; i < CONCURRENCY; i++) conversations.push(((await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsule } })).json()) as { id: string }).id);

  const results: { status: number; exit_reason?: string; content?: string }[] = [];
  let next = 0;
  await Promise.all(
    conversations.map(async (conversation) => {
      while (next < TURNS) {
        next++;
        const response = await t.request('POST', `/v1/conversations/${conversation}/messages`, { key, body: { content: `question ${next}` } });
        results.push({ status: response.status, ...((await response.json()) as { exit_reason?: string; content?: string }) });
      }
    }),
  );
  expect(results).toHaveLength(TURNS);
  for (const result of results) expect(result.status).toBe(200);

  const counts = await faultCounts(t.soma.database);
  const errors = results.filter((r) => r.exit_reason === 'error');
  return {
    answered: results.filter((r) => r.exit_reason !== 'error' && (r.content ?? '') !== '').length,
    errors: errors.length,
    emptyErrors: errors.filter((r) => (r.content ?? '') === '').length,
    stuck: counts.stuck,
    halfWritten: counts.halfWritten,
    missingEvents: counts.missingEvents,
  };
}

describe.each(drivers())('a model failing 20%% of calls on %s', (driver) => {
  const outcomes: Record<string, Outcome> = {};
  let retrying: TestSoma;
  let notRetrying: TestSoma;

  beforeAll(async () => {
    retrying = await startTestSoma({ driver, script, env: { SOMA_LLM_RETRY_DELAY_MS: '5', SOMA_TENANT_TURNS_PER_MINUTE: '0' } });
    notRetrying = await startTestSoma({ driver, script, env: { SOMA_LLM_MAX_RETRIES: '0', SOMA_TENANT_TURNS_PER_MINUTE: '0' } });
  });
  afterAll(async () => {
    await retrying?.close();
    await notRetrying?.close();
  });

  it('ends every turn with an answer or an explicit error, nothing stuck or half-written (retries on)', async () => {
    const outcome = (outcomes.retrying = await runTurns(retrying));
    expect(outcome.stuck).toBe(0);
    expect(outcome.halfWritten).toBe(0);
    expect(outcome.missingEvents).toBe(0);
    expect(outcome.answered + outcome.errors).toBe(TURNS);
    // (0.15)^4 per call: with 3 retries almost every call gets through, the first one included.
    expect(outcome.errors).toBeLessThanOrEqual(3);
    expect(outcome.emptyErrors).toBeLessThanOrEqual(1);
  }, 120_000);

  it('is the retry policy that saves them: without retries the same faults end many turns in error', async () => {
    const outcome = (outcomes.notRetrying = await runTurns(notRetrying));
    expect(outcome.stuck).toBe(0);
    expect(outcome.halfWritten).toBe(0);
    expect(outcome.missingEvents).toBe(0);
    expect(outcome.answered + outcome.errors).toBe(TURNS);
    expect(outcome.errors).toBeGreaterThanOrEqual(10);
    expect(outcome.emptyErrors).toBeGreaterThanOrEqual(5);
    console.log(`fault matrix (${driver}, 20% failing calls, ${TURNS} turns): ${JSON.stringify(outcomes)}`);
  }, 120_000);
});
