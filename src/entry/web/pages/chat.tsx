import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { api, ApiError, type Capsule, type Conversation, type Iteration, type Message, type Trace } from '../api';
import { streamTurn, type TurnEvent } from '../stream';
import { fixed, shortId, time } from '../ui/format';
import { useApi, useTitle } from '../ui/hooks';
import { ErrorNote, Loadable } from '../ui/status';
import { Feedback, IterationCard, type IterationView } from '../ui/turn';

interface LiveTurn {
  turnId?: string;
  userText: string;
  iterations: IterationView[];
  completed?: { content: string; exit_reason: string; iterations: number; convergence_score: number | null; message_id: string };
  error?: string;
}

const rememberedKey = 'soma.studio.conversations';
const remembered = (): Conversation[] => {
  try {
    return JSON.parse(localStorage.getItem(rememberedKey) ?? '[]') as Conversation[];
  } catch {
    return [];
  }
};

export function fromTrace(iterations: Iteration[], exitReason: string | null): IterationView[] {
  return iterations.map((it, i) => ({
    n: it.iteration_number,
    text: it.content,
    tools: it.tool_calls.map((call, j) => {
      const callId = call.callId ?? call.id ?? String(j);
      const result = it.tool_results.find((r) => r.callId === callId) ?? it.tool_results[j];
      return { callId, name: call.name, args: call.args, ...(result ? { ok: result.ok, result: result.result, ...(result.error ? { error: result.error } : {}), ...(result.latency_ms !== undefined ? { latencyMs: result.latency_ms } : {}) } : {}) };
    }),
    done: true,
    confidence: it.confidence,
    convergence: it.convergence_score,
    latencyMs: it.latency_ms,
    promptTokens: it.prompt_tokens,
    completionTokens: it.completion_tokens,
    exitReason: i === iterations.length - 1 ? (exitReason ?? it.exit_reason) : it.exit_reason,
  }));
}

/** Applies one SSE event of SPEC §4 to the live turn. */
function apply(turn: LiveTurn, { event, data }: TurnEvent): LiveTurn {
  const n = Number(data.iteration);
  const update = (fn: (it: IterationView) => IterationView) => ({ ...turn, iterations: turn.iterations.map((it) => (it.n === n ? fn(it) : it)) });
  switch (event) {
    case 'turn.started':
      return { ...turn, turnId: String(data.turn_id) };
    case 'iteration.started':
      return { ...turn, iterations: [...turn.iterations.filter((it) => it.n !== n), { n, text: '', tools: [], done: false }] };
    case 'iteration.delta':
      return update((it) => ({ ...it, text: it.text + String(data.text ?? '') }));
    case 'tool.call':
      return update((it) => ({ ...it, tools: [...it.tools, { callId: String(data.call_id), name: String(data.name), args: data.args }] }));
    case 'tool.approval_required':
      return update((it) => ({ ...it, tools: it.tools.map((t) => (t.callId === String(data.call_id) ? { ...t, awaitingApproval: true } : t)) }));
    case 'tool.result':
      return update((it) => ({
        ...it,
        tools: it.tools.map((t) => (t.callId === String(data.call_id) ? { ...t, awaitingApproval: false, ok: Boolean(data.ok), result: data.result, ...(data.error ? { error: String(data.error) } : {}), latencyMs: Number(data.latency_ms) } : t)),
      }));
    case 'iteration.completed':
      return update((it) => ({
        ...it,
        done: true,
        confidence: data.confidence as number | null,
        convergence: data.convergence_score as number | null,
        latencyMs: Number(data.latency_ms),
        promptTokens: Number(data.prompt_tokens),
        completionTokens: Number(data.completion_tokens),
        exitReason: 'continue',
      }));
    case 'turn.completed': {
      const completed = data as unknown as NonNullable<LiveTurn['completed']>;
      const last = turn.iterations[turn.iterations.length - 1];
      return { ...turn, completed, iterations: turn.iterations.map((it) => (it === last ? { ...it, done: true, exitReason: completed.exit_reason } : it)) };
    }
    case 'error':
      return { ...turn, error: `${String(data.code)}: ${String(data.message)}` };
    default:
      return turn;
  }
}

export function Chat() {
  const { params } = useRoute();
  const location = useLocation();
  const conversationId = params.conversationId;
  useTitle('Chat');
  const [listTick, setListTick] = useState(0);
  const conversations = useApi<{ conversations: Conversation[] }>(`/v1/conversations?limit=100&t=${listTick}`, '/v1/conversations');
  const capsules = useApi<{ capsules: Capsule[] }>('/v1/capsules?limit=200');
  const listUnavailable = conversations.error instanceof ApiError && conversations.error.unavailable;
  const list = listUnavailable ? remembered() : (conversations.data?.conversations ?? []);
  const capsuleName = (id: string) => capsules.data?.capsules.find((c) => c.id === id)?.name ?? shortId(id);

  return (
    <div class="chat-layout">
      <aside class="conversations" aria-labelledby="conversations-heading">
        <h2 id="conversations-heading">Conversations</h2>
        <NewConversation capsules={capsules.data?.capsules ?? []} preselect={location.query.capsule} onCreated={(c) => {
          if (listUnavailable) localStorage.setItem(rememberedKey, JSON.stringify([c, ...remembered()].slice(0, 50)));
          setListTick((t) => t + 1);
          location.route(`/chat/${c.id}`);
        }} />
        {listUnavailable ? <p class="muted small">This server cannot list conversations (no GET /v1/conversations); these are the ones started in this browser.</p> : null}
        {conversations.error && !listUnavailable ? <ErrorNote error={conversations.error} /> : null}
        <ul class="conversation-list">
          {list.map((c) => (
            <li key={c.id}>
              <a href={`/chat/${c.id}`} aria-current={c.id === conversationId ? 'page' : undefined}>
                <span>{c.title || `Conversation ${shortId(c.id)}`}</span>
                <span class="muted small">
                  {capsuleName(c.capsule_id)} · {c.message_count} messages
                </span>
              </a>
            </li>
          ))}
        </ul>
      </aside>
      <section class="chat-main" aria-labelledby="chat-heading">
        {conversationId ? (
          <ConversationView key={conversationId} conversationId={conversationId} capsules={capsules.data?.capsules ?? []} onTurn={() => setListTick((t) => t + 1)} />
        ) : (
          <>
            <h1 id="chat-heading" tabIndex={-1}>
              Chat
            </h1>
            <p>Start a conversation with a capsule, or open one on the left. Each turn shows its iterations as they stream: the draft, tool calls, confidence and convergence.</p>
          </>
        )}
      </section>
    </div>
  );
}

function NewConversation({ capsules, preselect, onCreated }: { capsules: Capsule[]; preselect?: string | undefined; onCreated: (c: Conversation) => void }) {
  const [capsuleId, setCapsuleId] = useState(preselect ?? '');
  const [title, setTitle] = useState('');
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    if (!capsuleId && capsules[0]) setCapsuleId(preselect && capsules.some((c) => c.id === preselect) ? preselect : capsules[0].id);
  }, [capsules, preselect]);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      onCreated(await api<Conversation>('POST', '/v1/conversations', { capsule_id: capsuleId, ...(title.trim() ? { title: title.trim() } : {}) }));
      setTitle('');
    } catch (err) {
      setError(err as Error);
    }
  };
  if (capsules.length === 0) return <p class="small">No capsule yet — <a href="/capsules/new">create one</a> to chat.</p>;
  return (
    <form class="new-conversation" onSubmit={submit}>
      <label for="new-capsule">Capsule</label>
      <select id="new-capsule" value={capsuleId} onChange={(e) => setCapsuleId((e.target as HTMLSelectElement).value)}>
        {capsules.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
          </option>
        ))}
      </select>
      <label for="new-title">Title (optional)</label>
      <input id="new-title" value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
      <button type="submit">New conversation</button>
      {error ? <ErrorNote error={error} /> : null}
    </form>
  );
}

function ConversationView({ conversationId, capsules, onTurn }: { conversationId: string; capsules: Capsule[]; onTurn: () => void }) {
  const conversation = useApi<Conversation>(`/v1/conversations/${conversationId}`);
  const messages = useApi<{ messages: Message[] }>(`/v1/conversations/${conversationId}/messages`);
  const [live, setLive] = useState<LiveTurn | null>(null);
  const [watched, setWatched] = useState<Record<string, IterationView[]>>({});
  const [text, setText] = useState('');
  const [status, setStatus] = useState('');
  const abort = useRef<AbortController | null>(null);
  const end = useRef<HTMLDivElement>(null);
  const capsule = capsules.find((c) => c.id === conversation.data?.capsule_id);
  useEffect(() => () => abort.current?.abort(), []);
  useEffect(() => end.current?.scrollIntoView({ block: 'end' }), [live?.iterations.length, messages.data?.messages.length]);

  const turns = useMemo(() => {
    const out: { turnId: string | null; user?: Message; answer?: Message }[] = [];
    for (const m of messages.data?.messages ?? []) {
      const existing = m.turn_id ? out.find((t) => t.turnId === m.turn_id) : undefined;
      const slot = existing ?? { turnId: m.turn_id };
      if (!existing) out.push(slot);
      if (m.role === 'user') slot.user = m;
      else if (m.role === 'assistant') slot.answer = m;
    }
    return out;
  }, [messages.data]);

  // The live turn gives way to the stored one once the messages include its answer.
  useEffect(() => {
    if (live?.completed && live.turnId && turns.some((t) => t.turnId === live.turnId && t.answer)) setLive(null);
  }, [turns]);
  const running = live !== null && !live.completed && !live.error;

  const send = async (event: Event) => {
    event.preventDefault();
    const content = text.trim();
    if (!content || running) return;
    setText('');
    const controller = new AbortController();
    abort.current = controller;
    let turn: LiveTurn = { userText: content, iterations: [] };
    setLive(turn);
    setStatus('Thinking…');
    try {
      await streamTurn({
        conversationId,
        content,
        signal: controller.signal,
        onEvent: (e) => {
          turn = apply(turn, e);
          setLive(turn);
          if (e.event === 'iteration.started') setStatus(`Iteration ${Number(e.data.iteration) + 1} running…`);
          if (e.event === 'tool.approval_required') setStatus(`Waiting for a person to approve ${String(e.data.name)} (Approvals page); the turn goes on once decided.`);
          if (e.event === 'turn.completed') setStatus(`Answer ready after ${turn.iterations.length} iteration${turn.iterations.length === 1 ? '' : 's'} (${String(e.data.exit_reason)}).`);
        },
      });
      if (turn.turnId) setWatched((w) => ({ ...w, [turn.turnId!]: turn.iterations }));
      messages.reload();
      onTurn();
    } catch (err) {
      setLive({ ...turn, error: (err as Error).message });
      setStatus('The turn failed.');
      messages.reload();
    } finally {
      abort.current = null;
    }
  };

  const title = conversation.data?.title || `Conversation ${shortId(conversationId)}`;
  return (
    <>
      <div class="page-head">
        <h1 id="chat-heading" tabIndex={-1}>
          {title}
        </h1>
        {capsule ? (
          <span class="muted">
            with <a href={`/capsules/${capsule.id}`}>{capsule.name}</a> · <a href={`/learning/${capsule.id}`}>learning</a>
          </span>
        ) : null}
      </div>
      {conversation.error ? <ErrorNote error={conversation.error} /> : null}
      <Loadable state={messages} feature="Messages" route="GET /v1/conversations/:id/messages">
        {() => (
          <ol class="turns" aria-label="Turns">
            {turns.map((t) => (
              <TurnItem key={t.turnId ?? t.user?.id} user={t.user} answer={t.answer} turnId={t.turnId} watched={t.turnId ? watched[t.turnId] : undefined} threshold={capsule?.rlm_convergence_threshold} />
            ))}
            {live && !(live.turnId && turns.some((t) => t.turnId === live.turnId && t.answer)) ? <LiveTurnItem turn={live} threshold={capsule?.rlm_convergence_threshold} /> : null}
          </ol>
        )}
      </Loadable>
      <div ref={end} />
      <p class="sr-only" role="status" aria-live="polite">
        {status}
      </p>
      <form class="composer" onSubmit={send}>
        <label for="message" class="sr-only">
          Message
        </label>
        <textarea
          id="message"
          rows={2}
          placeholder="Ask something… (Enter sends, Shift+Enter adds a line)"
          value={text}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              (e.currentTarget.form as HTMLFormElement).requestSubmit();
            }
          }}
        />
        {running ? (
          <button type="button" class="secondary" onClick={() => abort.current?.abort()}>
            Stop
          </button>
        ) : (
          <button type="submit" disabled={text.trim() === ''}>
            Send
          </button>
        )}
      </form>
    </>
  );
}

function TurnItem({ user, answer, turnId, watched, threshold }: { user?: Message | undefined; answer?: Message | undefined; turnId: string | null; watched?: IterationView[] | undefined; threshold?: number | undefined }) {
  const [open, setOpen] = useState(watched !== undefined);
  const [iterations, setIterations] = useState<IterationView[] | undefined>(watched);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    if (!open || iterations || !turnId) return;
    api<Trace>('GET', `/v1/trace/${turnId}`).then((t) => setIterations(fromTrace(t.iterations, t.exit_reason)), (err: Error) => setError(err));
  }, [open]);
  const meta = answer?.metadata ?? {};
  return (
    <li class="turn" data-testid="turn" data-turn-id={turnId ?? undefined}>
      {user ? <div class="bubble user">{user.content}</div> : null}
      {turnId ? (
        <button type="button" class="link small" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? 'Hide iterations' : `Show ${meta.iterations ?? ''} iterations`}
        </button>
      ) : null}
      {open && iterations ? (
        <ol class="iterations" aria-label="Iterations">
          {iterations.map((it) => (
            <IterationCard key={it.n} it={it} live={false} {...(threshold !== undefined ? { threshold } : {})} />
          ))}
        </ol>
      ) : null}
      {error ? <ErrorNote error={error} /> : null}
      {answer ? (
        <div class="bubble answer" data-testid="answer">
          <p>{answer.content}</p>
          <div class="answer-meta">
            <span class={`badge exit-${meta.exit_reason}`}>{meta.exit_reason}</span>
            <span class="muted small">
              {meta.iterations} iteration{meta.iterations === 1 ? '' : 's'} · convergence {fixed(meta.convergence_score ?? null, 2)} · {time(answer.created_at)}
            </span>
            {turnId ? (
              <>
                <a href={`/trace/${turnId}`}>Trace</a>
                <a href={`/replay/${turnId}`}>Replay</a>
                <Feedback turnId={turnId} />
              </>
            ) : null}
          </div>
        </div>
      ) : turnId ? (
        <p class="muted small">
          No answer stored yet — <a href={`/trace/${turnId}`}>see the trace</a>.
        </p>
      ) : null}
    </li>
  );
}

function LiveTurnItem({ turn, threshold }: { turn: LiveTurn; threshold?: number | undefined }) {
  return (
    <li class="turn live" data-testid="live-turn" aria-busy={!turn.completed && !turn.error}>
      <div class="bubble user">{turn.userText}</div>
      <ol class="iterations" aria-label="Iterations (live)">
        {turn.iterations.map((it) => (
          <IterationCard key={it.n} it={it} live {...(threshold !== undefined ? { threshold } : {})} />
        ))}
      </ol>
      {turn.iterations.length === 0 && !turn.error ? <p class="muted">Waiting for the first iteration…</p> : null}
      {turn.error ? (
        <div class="error" role="alert">
          {turn.error}
          {turn.turnId ? (
            <>
              {' '}
              — <a href={`/trace/${turn.turnId}`}>see the trace</a>
            </>
          ) : null}
        </div>
      ) : null}
      {turn.completed ? (
        <div class="bubble answer" data-testid="answer">
          <p>{turn.completed.content}</p>
        </div>
      ) : null}
    </li>
  );
}
