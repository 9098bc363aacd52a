import type { Clock } from '../ports/clock.js';
import type { IdSource } from '../ports/id-source.js';
import type { EventEnvelope, EventType, Outbox } from '../ports/outbox.js';

export type { EventEnvelope, EventType } from '../ports/outbox.js';

/** Kafka topic of every chat event (name kept from the plan). */
export const CHAT_EVENTS_TOPIC = 'chat.events';
export const EVENT_SCHEMA_VERSION = 1;

export interface NewEvent {
  eventType: EventType;
  tenantId: string;
  turnId?: string;
  capsuleId?: string;
  /**
   * What makes the event unique besides its type: for turn events `<turn_id>:<iteration>` is built
   * from `turnId` and `iteration`; other events pass a stable `subject` (e.g. `<capsule_id>:<version>`).
   */
  iteration?: number;
  subject?: string;
  /** For an event a turn can emit again when it runs again (its close after a resume): which run (1 for the first resume). */
  run?: number;
  payload: Record<string, unknown>;
  /** When the recorded change happened; default the clock's now. */
  occurredAt?: Date;
}

/** Deterministic idempotency key: `<event_type>:<turn_id>:<iteration>` (SPEC §7), or `<event_type>:<subject>`. */
export function idempotencyKeyOf(event: Pick<NewEvent, 'eventType' | 'turnId' | 'iteration' | 'subject' | 'run'>): string {
  if (event.turnId && event.subject) return `${event.eventType}:${event.turnId}:${event.subject}`;
  if (event.turnId) return `${event.eventType}:${event.turnId}:${event.iteration ?? '-'}${event.run ? `:r${event.run}` : ''}`;
  if (event.subject) return `${event.eventType}:${event.subject}`;
  throw new Error(`event ${event.eventType} needs a turn id or a subject for its idempotency key`);
}

/**
 * Appends one event to the outbox of `tx`. Call it inside the transaction of the change it records,
 * so the change and its event commit together or not at all.
 */
export async function recordEvent(tx: { outbox: Outbox }, { ids, clock }: { ids: IdSource; clock: Clock }, event: NewEvent): Promise<EventEnvelope> {
  const occurredAt = event.occurredAt ?? new Date(clock.now());
  const idempotencyKey = idempotencyKeyOf(event);
  const envelope: EventEnvelope = {
    event_id: ids.uuid(),
    event_type: event.eventType,
    schema_version: EVENT_SCHEMA_VERSION,
    occurred_at: occurredAt.toISOString(),
    tenant_id: event.tenantId,
    ...(event.turnId ? { turn_id: event.turnId } : {}),
    ...(event.capsuleId ? { capsule_id: event.capsuleId } : {}),
    payload: event.payload,
  };
  await tx.outbox.append({
    id: envelope.event_id,
    tenantId: event.tenantId,
    ...(event.turnId ? { turnId: event.turnId } : {}),
    idempotencyKey,
    topic: CHAT_EVENTS_TOPIC,
    partitionKey: event.tenantId,
    eventType: event.eventType,
    payload: envelope,
    headers: { idempotency_key: idempotencyKey, event_type: event.eventType, schema_version: String(EVENT_SCHEMA_VERSION) },
    createdAt: occurredAt,
  });
  return envelope;
}
