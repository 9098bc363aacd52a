import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { replay } from '../support/replay.js';
import { drivers, freshDatabase } from '../support/databases.js';
import { readEvents, startTestSoma, type TestSoma } from '../support/soma.js';

const run = promisify(execFile);

const script = {
  turns: [
    {
      match: 'multiply',
      iterations: [
        { text: 'Let me compute that.', tool_calls: [{ name: 'calculator', args: { expression: '6*7' } }], logprobs: [-0.3] },
        { text: 'Six times seven is 42.', logprobs: [-0.2, -0.1] },
        { text: 'Six times seven is 42.', logprobs: [-0.01, -0.01] },
      ],
    },
    {
      match: 'forbidden',
      iterations: [
        { text: 'Fetching.', tool_calls: [{ name: 'current_time', args: {} }], logprobs: [-0.3] },
        { text: 'I could not use that tool.', logprobs: [-0.2], final: true },
      ],
    },
    {
      match: 'loop',
      iterations: [{ text: 'Again.', tool_calls: [{ name: 'calculator', args: { expression: '1+1' } }], logprobs: [-0.3] }],
    },
    { iterations: [{ text: 'Plain answer.', confidence: 0.6 }, { text: 'Plain answer, refined.', confidence: 0.7, final: true }] },
  ],
};

describe.each(drivers())('tools in a turn, trace and replay (%s)', (driver) => {
  let t: TestSoma;
  let key: string;
  let conversationId: string;
  const turnIds: string[] = [];

  beforeAll(async () => {
    t = await startTestSoma({ driver, script });
    key = (await t.tenant()).api_key;
    const capsule = (await (
      await t.request('POST', '/v1/capsules', {
        key,
        body: { name: 'calc', system_prompt: 'Use tools.', tools: [{ name: 'calculator' }, { name: 'current_time' }], tool_policy: { denied: ['current_time'] } },
      })
    ).json()) as { id: string };
    conversationId = ((await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string }).id;
  });
  afterAll(async () => t?.close());

  const send = async (content: string) => {
    const response = await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content }, headers: { accept: 'text/event-stream' } });
    const events = await readEvents(response);
    turnIds.push(String(events[0]!.data.turn_id));
    return events;
  };

  it('calls calculator with 6*7, streams 42, and the next iteration answers with it', async () => {
    const events = await send('Please multiply six by seven');
    const call = events.find((e) => e.event === 'tool.call')!;
    expect(call.data).toMatchObject({ iteration: 0, name: 'calculator', args: { expression: '6*7' } });
    const result = events.find((e) => e.event === 'tool.result')!;
    expect(result.data).toMatchObject({ iteration: 0, ok: true, result: { result: 42 } });
    const completed = events[events.length - 1]!.data;
    expect(completed.content).toBe('Six times seven is 42.');
    expect(completed.tools_used).toEqual(['calculator']);
    const first = events.find((e) => e.event === 'iteration.completed')!;
    expect(first.data.convergence_score).toBe(0); // tool calls pending

    const trace = (await (await t.request('GET', `/v1/trace/${completed.turn_id}`, { key })).json()) as { iterations: { tool_calls: unknown[]; tool_results: { ok: boolean; result: unknown; policy: { allow: boolean } }[]; metadata: { policy_decisions: { allow: boolean }[] } }[] };
    expect(trace.iterations[0]!.tool_calls).toHaveLength(1);
    expect(trace.iterations[0]!.tool_results[0]).toMatchObject({ ok: true, result: { result: 42 } });
    expect(trace.iterations[0]!.metadata.policy_decisions[0]!.allow).toBe(true);
  });

  it('denies a tool in tool_policy.denied, tells the model, and counts the decision', async () => {
    const events = await send('use the forbidden tool');
    const result = events.find((e) => e.event === 'tool.result')!;
    expect(result.data.ok).toBe(false);
    expect(String(result.data.error)).toMatch(/soma\.tools/);
    const metrics = await (await t.request('GET', '/metrics')).text();
    expect(metrics).toMatch(/policy_decisions_total\{decision="deny"\} [1-9]/);
  });

  it('exits loop_detected when the model repeats the same tool call', async () => {
    const events = await send('loop please');
    expect(events[events.length - 1]!.data.exit_reason).toBe('loop_detected');
  });

  it('replays every recorded turn exactly', async () => {
    await send('hello');
    for (const turnId of turnIds) {
      const report = await replay(t.soma, turnId);
      expect(report.differences, turnId).toEqual([]);
      expect(report.identical).toBe(true);
    }
  });

  it('runs counterfactually without writing', async () => {
    const before = await t.soma.database.query<{ n: number }>(sql`select count(*)::int as n from rlm_iterations`);
    const report = await replay(t.soma, turnIds[0]!, { threshold: 0.5 });
    expect(report.counterfactual).toBe(true);
    expect(report.replayed.exit_reason).toBe('converged');
    expect(report.replayed.iterations).toBe(2);
    const after = await t.soma.database.query<{ n: number }>(sql`select count(*)::int as n from rlm_iterations`);
    expect(after).toEqual(before);
  });

  it('reports a row altered in the database', async () => {
    await t.soma.database.query(sql`update rlm_iterations set convergence_score = 0.123 where turn_id = ${turnIds[0]!} and iteration_number = 1`);
    const report = await replay(t.soma, turnIds[0]!);
    expect(report.identical).toBe(false);
    expect(report.differences).toContainEqual({ iteration: 1, field: 'convergence_score', recorded: 0.123, replayed: expect.any(Number) });
  });
});

describe.skipIf(!drivers().includes('postgres'))('soma replay (CLI)', () => {
  it('exits 0 for an identical turn and 1 with the difference for an altered one', async () => {
    const t = await startTestSoma({ driver: 'postgres', script });
    try {
      const key = (await t.tenant()).api_key;
      const capsule = (await (await t.request('POST', '/v1/capsules', { key, body: { name: 'c', system_prompt: 's', tools: [{ name: 'calculator' }] } })).json()) as { id: string };
      const conversation = (await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string };
      const turn = (await (await t.request('POST', `/v1/conversations/${conversation.id}/messages`, { key, body: { content: 'multiply' } })).json()) as { turn_id: string };
      const [{ url } = { url: '' }] = await t.soma.database.query<{ url: string }>(sql`select current_database() as url`);
      const base = new URL(process.env.SOMA_TEST_DATABASE_URL!);
      base.pathname = `/${url}`;
      const env = { ...process.env, DATABASE_URL: base.toString(), SOMA_LOG_LEVEL: 'silent' };
      const ok = await run('node', ['bin/soma.mjs', 'replay', turn.turn_id], { env });
      expect(ok.stdout).toContain('identical');
      await t.request('POST', `/v1/conversations/${conversation.id}/messages`, { key, body: { content: 'hello' } });
      const all = await run('node', ['bin/soma.mjs', 'replay', '--conversation', conversation.id], { env });
      expect(all.stderr).toContain('2 turn(s) replayed, 0 with differences');
      const since = await run('node', ['bin/soma.mjs', 'replay', '--since', new Date(Date.now() - 60_000).toISOString(), '--json'], { env });
      expect((JSON.parse(since.stdout) as { identical: boolean }[]).every((r) => r.identical)).toBe(true);
      const cf = await run('node', ['bin/soma.mjs', 'replay', turn.turn_id, '--with', 'threshold=0.5'], { env });
      expect(cf.stdout).toContain('counterfactual');
      await t.soma.database.query(sql`update rlm_iterations set weights_after = jsonb_set(weights_after, '{alpha}', '9') where turn_id = ${turn.turn_id} and iteration_number = 0`);
      const failed = await run('node', ['bin/soma.mjs', 'replay', turn.turn_id], { env }).then(
        () => ({ code: 0, stdout: '' }),
        (err: { code: number; stdout: string }) => err,
      );
      expect(failed.code).toBe(1);
      expect(failed.stdout).toContain('weights_after');
    } finally {
      await t.close();
    }
  }, 60_000);
});

void freshDatabase;
