import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatCompletionsServer, type ChatCompletionsServer } from '../fixtures/chat-completions-server.js';
import { readEvents, startTestSoma, type TestSoma } from '../support/soma.js';

/**
 * SPEC §13.3 through the turn path with the AI SDK adapter: the model's tool calls and their results
 * reach the next iteration as an assistant message with `tool_calls` and `tool` messages — never as
 * user text, and with no empty assistant message after the tool-only iteration.
 */
describe('native tool turns with an OpenAI-compatible provider', () => {
  let provider: ChatCompletionsServer;
  let t: TestSoma;
  let key: string;
  let conversationId: string;

  beforeAll(async () => {
    provider = await startChatCompletionsServer([
      { toolCalls: [{ id: 'call_7', name: 'calculator', arguments: '{"expression":"123*456"}' }], finishReason: 'tool_calls', usage: { prompt_tokens: 50, completion_tokens: 9 } },
      { text: [{ content: 'It is 56088.', logprob: -0.01 }], usage: { prompt_tokens: 80, completion_tokens: 5 } },
    ]);
    t = await startTestSoma({ driver: 'pglite', script: { turns: [{ iterations: [{ text: 'unused' }] }] }, env: { SOMA_MODEL: 'openai-compatible:tiny', OPENAI_BASE_URL: provider.baseURL } });
    key = (await t.tenant()).api_key;
    const capsule = (await (await t.request('POST', '/v1/capsules', { key, body: { name: 'calc', system_prompt: 'Be brief.', tools: [{ name: 'calculator' }] } })).json()) as { id: string };
    conversationId = ((await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string }).id;
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
  });

  it('sends the call and its result as assistant tool_calls and a tool message in the next request', async () => {
    const events = await readEvents(await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content: 'What is 123*456?' }, headers: { accept: 'text/event-stream' } }));
    expect(events.find((e) => e.event === 'tool.result')!.data).toMatchObject({ ok: true, result: { result: 56088 } });
    expect(events.at(-1)!.data).toMatchObject({ content: 'It is 56088.', tools_used: ['calculator'] });

    const second = provider.requests[1] as { messages: { role: string; content?: unknown; tool_calls?: unknown[]; tool_call_id?: string }[] };
    expect(second.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(second.messages[2]).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_7', type: 'function', function: { name: 'calculator', arguments: '{"expression":"123*456"}' } }] });
    expect(second.messages[3]).toEqual({ role: 'tool', tool_call_id: 'call_7', content: '{"result":56088}' });
    expect(second.messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['What is 123*456?']);
    expect(second.messages.some((m) => m.role === 'assistant' && !m.tool_calls && (m.content === '' || m.content === null))).toBe(false);
  });
});
