import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Capsule, Conversation, Message } from '../api';
import { streamTurn } from '../stream';
import { shortId } from '../ui/format';
import { useApi } from '../ui/hooks';
import { ErrorNote, Loadable } from '../ui/status';
import type { IterationView } from '../ui/turn';
import { LiveTurnItem, TurnItem } from './chat-turn';
import { apply, type LiveTurn } from './live-turn';

/** One conversation: its stored turns, the turn streaming now, and the composer. */
export function ConversationView({ conversationId, capsules, onTurn }: { conversationId: string; capsules: Capsule[]; onTurn: () => void }) {
  const conversation = useApi<Conversation>(`/v1/conversations/${conversationId}`);
  const messages = useApi<{ messages: Message[] }>(`/v1/conversations/${conversationId}/messages`);
  const [live, setLive] = useState<LiveTurn | null>(null);
  const [watched, setWatched] = useState<Record<string, { iterations: IterationView[]; threshold?: number }>>({});
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
      if (turn.turnId) setWatched((w) => ({ ...w, [turn.turnId!]: { iterations: turn.iterations, ...(turn.threshold !== undefined ? { threshold: turn.threshold } : {}) } }));
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
            {live && !(live.turnId && turns.some((t) => t.turnId === live.turnId && t.answer)) ? <LiveTurnItem turn={live} threshold={live.threshold ?? capsule?.rlm_convergence_threshold} /> : null}
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
