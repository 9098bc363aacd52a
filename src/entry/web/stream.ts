import { fetchEventSource, type EventSourceMessage } from '@microsoft/fetch-event-source';
import { ApiError, authHeaders, errorFrom } from './api';

/** One SSE event of a turn (SPEC §4, §13.4). */
export interface TurnEvent {
  event: string;
  data: Record<string, unknown>;
  id?: string;
}

class StreamClosed extends Error {}

function open(onEvent: (event: TurnEvent) => void, onId: (id: string) => void) {
  return {
    async onopen(response: Response) {
      if (!response.ok) throw await errorFrom(response);
      if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) throw new ApiError(response.status, 'NOT_A_STREAM', 'the server did not answer with an event stream');
    },
    onmessage(message: EventSourceMessage) {
      if (message.id) onId(message.id);
      if (!message.event || !message.data) return;
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(message.data) as Record<string, unknown>;
      } catch {
        return;
      }
      onEvent({ event: message.event, data, ...(message.id ? { id: message.id } : {}) });
    },
  };
}

/**
 * Sends a message and follows its turn live. The POST is never retried (that would send the message
 * twice); if the stream breaks before `turn.completed`, it resumes with `GET /v1/turns/:id/events`
 * from the last event id (`Last-Event-ID`, SPEC §13.4) where the server has that route. Resolves
 * when the turn completed; rejects with an {@link ApiError} otherwise.
 */
export async function streamTurn({ conversationId, content, signal, onEvent }: { conversationId: string; content: string; signal: AbortSignal; onEvent: (event: TurnEvent) => void }): Promise<void> {
  let turnId: string | undefined;
  let lastId: string | undefined;
  let completed = false;
  const handle = (event: TurnEvent) => {
    if (event.event === 'turn.started' && typeof event.data.turn_id === 'string') turnId = event.data.turn_id;
    if (event.event === 'turn.completed') completed = true;
    onEvent(event);
  };
  const handlers = open(handle, (id) => (lastId = id));
  try {
    await fetchEventSource(`/v1/conversations/${conversationId}/messages`, {
      method: 'POST',
      headers: { ...authHeaders(), 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ content }),
      signal,
      openWhenHidden: true,
      ...handlers,
      onclose() {
        throw new StreamClosed('the stream ended');
      },
      onerror(err) {
        throw err;
      },
    });
  } catch (err) {
    if (completed || signal.aborted) return;
    if (!turnId || err instanceof ApiError) throw err;
  }
  if (completed || signal.aborted) return;
  await followTurn({ turnId: turnId!, lastEventId: lastId, signal, onEvent: handle, isDone: () => completed });
}

/**
 * Follows a turn's events with `GET /v1/turns/:turn_id/events`, from `Last-Event-ID` on, retrying
 * a broken connection a few times (the event-source client resends the last id it saw).
 */
export async function followTurn({ turnId, lastEventId, signal, onEvent, isDone }: { turnId: string; lastEventId?: string; signal: AbortSignal; onEvent: (event: TurnEvent) => void; isDone: () => boolean }): Promise<void> {
  let failures = 0;
  const handlers = open(onEvent, () => undefined);
  const controller = new AbortController();
  signal.addEventListener('abort', () => controller.abort(), { once: true });
  await fetchEventSource(`/v1/turns/${turnId}/events`, {
    method: 'GET',
    headers: { ...authHeaders(), accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    signal: controller.signal,
    openWhenHidden: true,
    ...handlers,
    onmessage(message) {
      failures = 0;
      handlers.onmessage(message);
      if (isDone()) controller.abort();
    },
    onclose() {
      if (isDone()) return;
      throw new StreamClosed('the stream ended before the turn completed');
    },
    onerror(err) {
      if (err instanceof ApiError || ++failures > 5) throw err;
      return 1000 * failures;
    },
  }).catch((err: unknown) => {
    if (isDone() || signal.aborted) return;
    if (err instanceof ApiError && err.unavailable) throw new ApiError(err.status, err.code, 'the connection broke and this server cannot resume a turn’s stream (GET /v1/turns/:id/events is not available); the turn goes on — see its trace');
    throw err;
  });
}
