import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { readSse } from './sse-client.js';

export interface ChatOptions {
  url: string;
  apiKey: string;
  /** Where the chat remembers its capsule and conversation between runs. */
  stateFile: string;
  capsuleId?: string;
  conversationId?: string;
  /** Send one message and exit (non-interactive). */
  message?: string;
  output?: NodeJS.WritableStream;
  input?: NodeJS.ReadableStream;
}

interface ChatState {
  url: string;
  capsule_id: string;
  conversation_id: string;
}

/**
 * The terminal chat capsule's system prompt. Measured with `soma eval` on the default model: the
 * former "You are Soma, a helpful assistant. Answer briefly and accurately." sent 5 of 7 "capital
 * of X" questions into foreign-language loops; this one answers them (README).
 */
export const TERMINAL_CHAT_PROMPT = 'Answer the question in one short sentence.';

const dim = (s: string) => `\x1b[2m${s}\x1b[22m`;

async function api(options: ChatOptions, method: string, route: string, body?: unknown) {
  const response = await fetch(new URL(route, options.url), {
    method,
    headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const payload = (await response.json().catch(() => ({}))) as Record<string, unknown> & { error?: { code: string; message: string } };
  if (!response.ok) throw new Error(`${method} ${route}: ${payload.error?.code ?? response.status} ${payload.error?.message ?? ''}`.trim());
  return payload;
}

/** Finds or creates the capsule and the conversation this terminal talks in. */
async function ensureConversation(options: ChatOptions): Promise<ChatState> {
  if (options.conversationId) {
    const conversation = await api(options, 'GET', `/v1/conversations/${options.conversationId}`);
    return { url: options.url, capsule_id: String(conversation.capsule_id), conversation_id: options.conversationId };
  }
  if (!options.capsuleId && existsSync(options.stateFile)) {
    const saved = JSON.parse(readFileSync(options.stateFile, 'utf8')) as ChatState;
    if (saved.url === options.url) {
      try {
        await api(options, 'GET', `/v1/conversations/${saved.conversation_id}`);
        return saved;
      } catch {
        /* gone (another database): start a new one */
      }
    }
  }
  const capsuleId =
    options.capsuleId ??
    String((await api(options, 'POST', '/v1/capsules', { name: 'terminal chat', system_prompt: TERMINAL_CHAT_PROMPT, tools: [{ name: 'calculator' }] })).id);
  const conversation = await api(options, 'POST', '/v1/conversations', { capsule_id: capsuleId, title: 'soma chat' });
  const state = { url: options.url, capsule_id: capsuleId, conversation_id: String(conversation.id) };
  mkdirSync(path.dirname(options.stateFile), { recursive: true });
  writeFileSync(options.stateFile, JSON.stringify(state, null, 2));
  return state;
}

/** `/good` and `/bad`: the score they send for the last answer (SPEC §13.2 feedback). */
export const feedbackCommands: Record<string, number> = { '/good': 1, '/bad': -1 };

/** Sends feedback on a turn's answer; returns the line to show. */
export async function sendFeedback(options: ChatOptions, turnId: string, score: number): Promise<string> {
  const result = (await api(options, 'POST', `/v1/turns/${turnId}/feedback`, { score })) as { changed?: boolean; learning?: { status?: string; seq?: number } };
  if (result.changed === false) return 'feedback unchanged';
  return `feedback ${score > 0 ? '👍' : '👎'} recorded (learning ${result.learning?.status ?? 'unknown'}${result.learning?.seq !== undefined ? `, history row ${result.learning.seq}` : ''})`;
}

/** Sends one message and streams the turn to the terminal; returns the final answer. */
export async function sendAndStream(options: ChatOptions, conversationId: string, content: string, onTurn?: (turnId: string) => void): Promise<string> {
  const out = options.output ?? process.stdout;
  const response = await fetch(new URL(`/v1/conversations/${conversationId}/messages`, options.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ content }),
  });
  if (!response.ok || !response.body) {
    const payload = (await response.json().catch(() => ({}))) as { error?: { code: string; message: string } };
    throw new Error(`${payload.error?.code ?? response.status}: ${payload.error?.message ?? 'request failed'}`);
  }
  let answer = '';
  for await (const { event, data } of readSse(response.body)) {
    const d = JSON.parse(data) as Record<string, unknown>;
    if (event === 'iteration.started') out.write(dim(`\n[iteration ${String(d.iteration)}] `));
    else if (event === 'iteration.delta') out.write(String(d.text));
    else if (event === 'tool.call') out.write(dim(`\n  → ${String(d.name)}(${JSON.stringify(d.args)})`));
    else if (event === 'tool.result') out.write(dim(`\n  ← ${d.ok ? JSON.stringify(d.result) : `error: ${String(d.error)}`}`));
    else if (event === 'iteration.completed') {
      const confidence = d.confidence === null ? 'n/a' : Number(d.confidence).toFixed(2);
      out.write(dim(`\n  confidence ${confidence} · convergence ${Number(d.convergence_score).toFixed(2)}\n`));
    } else if (event === 'error') out.write(`\nerror: ${String(d.code)} ${String(d.message)}\n`);
    else if (event === 'turn.completed') {
      answer = String(d.content);
      onTurn?.(String(d.turn_id));
      out.write(`\n${answer}\n`);
      out.write(dim(`(${String(d.iterations)} iterations · ${String(d.exit_reason)} · turn ${String(d.turn_id)})\n`));
    }
  }
  return answer;
}

/** `soma chat`: an interactive terminal client that streams each turn. */
export async function runChat(options: ChatOptions): Promise<void> {
  const out = options.output ?? process.stdout;
  const state = await ensureConversation(options);
  if (options.message !== undefined) {
    await sendAndStream(options, state.conversation_id, options.message);
    return;
  }
  out.write(dim(`conversation ${state.conversation_id} — type a message; /good or /bad rates the last answer; Ctrl-D to quit\n`));
  let lastTurn: string | undefined;
  const rl = createInterface({ input: options.input ?? process.stdin, output: out, terminal: Boolean((options.input ?? process.stdin) === process.stdin && process.stdin.isTTY) });
  // Input may end while a turn streams; the lines read before stay queued, but a closed readline cannot prompt.
  let closed = false;
  rl.once('close', () => (closed = true));
  const prompt = () => {
    if (!closed) rl.prompt();
  };
  try {
    rl.setPrompt('you> ');
    prompt();
    for await (const raw of rl) {
      const line = raw.trim();
      if (['/quit', '/exit'].includes(line)) break;
      const score = feedbackCommands[line];
      if (score !== undefined) {
        try {
          out.write(`${lastTurn ? await sendFeedback(options, lastTurn, score) : 'no answer to rate yet'}\n`);
        } catch (err) {
          out.write(`error: ${(err as Error).message}\n`);
        }
      } else if (line !== '') {
        try {
          await sendAndStream(options, state.conversation_id, line, (turnId) => (lastTurn = turnId));
        } catch (err) {
          out.write(`error: ${(err as Error).message}\n`);
        }
      }
      prompt();
    }
  } finally {
    rl.close();
  }
}
