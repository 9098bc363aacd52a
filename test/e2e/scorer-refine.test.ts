import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatCompletionsServer, type ChatCompletionsServer } from '../fixtures/chat-completions-server.js';
import { startTestSoma, type TestSoma } from '../support/soma.js';

/**
 * Issue 11, Build 4: refinement grounded in outside signals. A draft that the capsule's own scorer
 * fails is a failed check like a cut-off one: it cannot converge however confident the model is, and
 * the refine step tells the model what the check wanted. Through the turn path with the AI SDK adapter
 * against a chat-completions peer, at the default threshold (0.3), where a confident first draft stops.
 */
describe('a failed scorer check reaches the refine step', () => {
  let provider: ChatCompletionsServer;
  let t: TestSoma;
  let key: string;
  let capsuleId: string;

  const confident = (content: string) => ({ text: [{ content, logprob: -0.01 }], usage: { prompt_tokens: 40, completion_tokens: 6 } });

  beforeAll(async () => {
    provider = await startChatCompletionsServer([confident('The colour is mauve.'), confident('The colour is teal.')]);
    t = await startTestSoma({
      driver: 'pglite',
      script: { turns: [{ iterations: [{ text: 'unused' }] }] },
      env: { SOMA_MODEL: 'openai-compatible:tiny', OPENAI_BASE_URL: provider.baseURL, SA01_RLM_CONVERGENCE_THRESHOLD: '' },
    });
    key = (await t.tenant()).api_key;
    const capsule = await t.request('POST', '/v1/capsules', {
      key,
      body: { name: 'teal only', system_prompt: 'Answer with a colour.', learning_config: { scorer: { type: 'regex', pattern: '\\bteal\\b', flags: 'i' } } },
    });
    expect(capsule.status).toBe(201);
    capsuleId = ((await capsule.json()) as { id: string }).id;
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
  });

  async function ask(content: string) {
    const conversation = (await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsuleId } })).json()) as { id: string };
    const response = await t.request('POST', `/v1/conversations/${conversation.id}/messages`, { key, body: { content } });
    expect(response.status).toBe(200);
    return (await response.json()) as { turn_id: string; content: string; iterations: number; exit_reason: string };
  }

  it('does not converge on a confident draft the scorer failed, names the check in the next prompt, and answers with the draft that passes', async () => {
    const turn = await ask('Which colour?');
    expect(turn).toMatchObject({ content: 'The colour is teal.', iterations: 2, exit_reason: 'converged' });

    // The second request carries the scorer's feedback as the refine instruction, after the failed draft.
    const second = provider.requests[1] as { messages: { role: string; content?: unknown }[] };
    const texts = second.messages.map((m) => `${m.role}: ${typeof m.content === 'string' ? m.content : JSON.stringify(m.content)}`);
    expect(texts.some((text) => text.startsWith('assistant: ') && text.includes('The colour is mauve.'))).toBe(true);
    const refine = texts.at(-1)!;
    expect(refine).toMatch(/^user: /);
    expect(refine).toContain('Your answer did not pass the answer check: it must match the regular expression \\bteal\\b (flags i).');
    expect(refine).toContain('Answer the question again');

    const trace = (await (await t.request('GET', `/v1/trace/${turn.turn_id}`, { key })).json()) as { iterations: { convergence_score: number; metadata: { defects: string[]; answer_score: number; scorer_feedback?: string } }[] };
    expect(trace.iterations.map((it) => it.metadata.defects)).toEqual([['scorer_failed'], []]);
    expect(trace.iterations.map((it) => it.metadata.answer_score)).toEqual([0, 1]);
    expect(trace.iterations[0]!.convergence_score).toBe(0);
    expect(trace.iterations[1]!.metadata.scorer_feedback).toBeUndefined();

    // Replay rebuilds the same refine prompt from the record (no scorer runs again).
    const replay = (await (await t.request('POST', `/v1/turns/${turn.turn_id}/replay`, { key, body: {} })).json()) as { identical: boolean; differences: unknown[] };
    expect(replay.differences).toEqual([]);
    expect(replay.identical).toBe(true);
  });

  it('stops at the first draft when the scorer passes it', async () => {
    // The peer's last reply (teal) repeats from here on.
    const turn = await ask('Which colour now?');
    expect(turn).toMatchObject({ content: 'The colour is teal.', iterations: 1, exit_reason: 'converged' });
    expect(provider.requests).toHaveLength(3);
  });
});
