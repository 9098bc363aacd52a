import { useEffect, useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { api, ApiError, type Capsule, type Conversation } from '../api';
import { shortId } from '../ui/format';
import { useApi, useTitle } from '../ui/hooks';
import { ErrorNote } from '../ui/status';
import { ConversationView } from './conversation';

const rememberedKey = 'soma.studio.conversations';
const remembered = (): Conversation[] => {
  try {
    return JSON.parse(localStorage.getItem(rememberedKey) ?? '[]') as Conversation[];
  } catch {
    return [];
  }
};

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
