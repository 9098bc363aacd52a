import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One answer of the test server: an error status, or a streamed chat completion. */
export type ServerReply =
  | { status: number; body?: unknown }
  | {
      /** Text pieces streamed as `delta.content`, each with its token logprob when given. */
      text?: Array<{ content: string; logprob?: number }>;
      toolCalls?: Array<{ id: string; name: string; arguments: string }>;
      finishReason?: 'stop' | 'tool_calls' | 'length';
      usage?: { prompt_tokens: number; completion_tokens: number };
      /** Delay between chunks, to test aborts mid-stream. */
      chunkDelayMs?: number;
      /** Close the connection after this many chunks (a broken stream). */
      breakAfterChunks?: number;
    };

export interface ChatCompletionsServer {
  /** `http://127.0.0.1:<port>/v1` */
  baseURL: string;
  /** The JSON bodies received, in order. */
  requests: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * A small OpenAI chat-completions peer on 127.0.0.1 for adapter tests: it speaks the real wire
 * protocol (JSON request, `text/event-stream` chunks, `[DONE]`), answering with `replies` in order
 * (the last one repeats).
 */
export async function startChatCompletionsServer(replies: ServerReply[]): Promise<ChatCompletionsServer> {
  const requests: Array<Record<string, unknown>> = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((request, response) => {
    void handle(request, response);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of request) raw += String(chunk);
    if (request.method !== 'POST' || !request.url?.endsWith('/chat/completions')) {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found' } }));
      return;
    }
    requests.push(JSON.parse(raw) as Record<string, unknown>);
    const reply = replies[Math.min(requests.length - 1, replies.length - 1)];
    if (!reply) throw new Error('no reply configured');
    if ('status' in reply) {
      response
        .writeHead(reply.status, { 'content-type': 'application/json' })
        .end(JSON.stringify(reply.body ?? { error: { message: `status ${reply.status}`, type: 'server_error' } }));
      return;
    }
    const model = String(requests.at(-1)?.model ?? 'test-model');
    const base = { id: `chatcmpl-${requests.length}`, object: 'chat.completion.chunk', created: 1_700_000_000, model };
    const chunks: unknown[] = [{ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }];
    for (const piece of reply.text ?? []) {
      chunks.push({
        ...base,
        choices: [
          {
            index: 0,
            delta: { content: piece.content },
            logprobs: piece.logprob === undefined ? null : { content: [{ token: piece.content, logprob: piece.logprob, bytes: null, top_logprobs: [] }] },
            finish_reason: null,
          },
        ],
      });
    }
    (reply.toolCalls ?? []).forEach((call, index) => {
      const half = Math.floor(call.arguments.length / 2);
      chunks.push({
        ...base,
        choices: [{ index: 0, delta: { tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments.slice(0, half) } }] }, finish_reason: null }],
      });
      chunks.push({
        ...base,
        choices: [{ index: 0, delta: { tool_calls: [{ index, function: { arguments: call.arguments.slice(half) } }] }, finish_reason: null }],
      });
    });
    chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: reply.finishReason ?? (reply.toolCalls?.length ? 'tool_calls' : 'stop') }] });
    const usage = reply.usage ?? { prompt_tokens: 10, completion_tokens: 5 };
    chunks.push({ ...base, choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } });

    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    let sent = 0;
    for (const chunk of chunks) {
      if (response.destroyed) return;
      if (reply.breakAfterChunks !== undefined && sent >= reply.breakAfterChunks) {
        response.destroy();
        return;
      }
      response.write(`data: ${JSON.stringify(chunk)}\n\n`);
      sent++;
      if (reply.chunkDelayMs) await new Promise((resolve) => setTimeout(resolve, reply.chunkDelayMs));
    }
    response.end('data: [DONE]\n\n');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
