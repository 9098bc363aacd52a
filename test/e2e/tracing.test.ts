import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSoma, readEvents, type TestSoma } from '../support/soma.js';

interface OtlpSpan {
  name: string;
  spanId: string;
  parentSpanId?: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number } }[];
}

/** A real OTLP/HTTP (JSON) trace receiver on loopback. */
async function otlpReceiver(): Promise<{ url: string; spans: OtlpSpan[]; server: Server }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const payload = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const rs of payload.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, spans, server };
}

const attr = (span: OtlpSpan, key: string) => {
  const v = span.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? Number(v.intValue) : (v?.boolValue ?? v?.doubleValue));
};

describe('OpenTelemetry spans with the GenAI conventions', () => {
  let t: TestSoma;
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
  beforeAll(async () => {
    receiver = await otlpReceiver();
    t = await startTestSoma({
      driver: 'pglite',
      script: { turns: [{ iterations: [{ text: 'Computing.', tool_calls: [{ name: 'calculator', args: { expression: '6*7' } }], logprobs: [-0.2] }, { text: '42.', confidence: 0.9, final: true }] }] },
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
    });
  });
  afterAll(async () => {
    receiver?.server.close();
  });

  it('exports invoke_agent → chat and execute_tool spans for a turn', async () => {
    const key = (await t.tenant()).api_key;
    const capsule = (await (await t.request('POST', '/v1/capsules', { key, body: { name: 'tracer', system_prompt: 's', tools: [{ name: 'calculator' }] } })).json()) as { id: string };
    const conversation = (await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string };
    const events = await readEvents(await t.request('POST', `/v1/conversations/${conversation.id}/messages`, { key, body: { content: 'six times seven' }, headers: { accept: 'text/event-stream' } }));
    const turnId = String(events[0]!.data.turn_id);
    await t.close(); // flushes the exporter

    const agent = receiver.spans.find((s) => s.name === 'invoke_agent tracer')!;
    expect(agent).toBeDefined();
    expect(attr(agent, 'gen_ai.operation.name')).toBe('invoke_agent');
    expect(attr(agent, 'gen_ai.agent.id')).toBe(capsule.id);
    expect(attr(agent, 'soma.turn.id')).toBe(turnId);
    expect(attr(agent, 'soma.exit_reason')).toBe('llm_completed');
    const chats = receiver.spans.filter((s) => attr(s, 'gen_ai.operation.name') === 'chat');
    expect(chats).toHaveLength(2);
    for (const chat of chats) {
      expect(chat.parentSpanId).toBe(agent.spanId);
      expect(Number(attr(chat, 'gen_ai.usage.input_tokens'))).toBeGreaterThan(0);
      expect(attr(chat, 'gen_ai.provider.name')).toBe('scripted');
    }
    const tool = receiver.spans.find((s) => s.name === 'execute_tool calculator')!;
    expect(attr(tool, 'gen_ai.tool.name')).toBe('calculator');
    expect(attr(tool, 'soma.tool.outcome')).toBe('ok');
    expect(tool.parentSpanId).toBe(agent.spanId);
    // No ids in metric labels, but spans may carry them: that is what traces are for.
  });
});
