/** The event types Soma records (SPEC §7). */
export type EventType =
  | 'chat.turn_started'
  | 'chat.iteration_completed'
  | 'chat.turn_complete'
  | 'chat.approval_requested'
  | 'chat.approval_decided'
  | 'chat.turn_resumed'
  | 'chat.feedback_received'
  | 'learning.rolled_back'
  | 'learning.reset'
  | 'capsule.created'
  | 'capsule.changed';

/** The event envelope of SPEC §7: what `/v1/events` serves and the relay publishes to Kafka. */
export interface EventEnvelope {
  event_id: string;
  event_type: EventType;
  schema_version: number;
  /** ISO time of the change the event records. */
  occurred_at: string;
  tenant_id: string;
  turn_id?: string;
  capsule_id?: string;
  payload: Record<string, unknown>;
}

/** One row of the outbox: an envelope plus what the relay needs to publish it exactly once. */
export interface OutboxMessage {
  /** Equals `payload.event_id`. */
  id: string;
  tenantId: string;
  /** The turn the event belongs to, if any: the relay publishes one turn's events in order. */
  turnId?: string;
  /** Deterministic key (`<event_type>:<turn_id>:<iteration>` or `<event_type>:<subject>`); unique in the outbox. */
  idempotencyKey: string;
  /** Kafka topic. */
  topic: string;
  /** Kafka partition key (the tenant, so one tenant's events stay in order). */
  partitionKey: string;
  eventType: EventType;
  payload: EventEnvelope;
  /** Kafka headers. */
  headers: Record<string, string>;
  createdAt: Date;
}

/**
 * The outbox writer. `append` belongs inside the transaction of the change the event records
 * (`store.transaction(async (tx) => { …; await tx.outbox.append(message) })`), so the change and its
 * event commit together or not at all. A second message with the same idempotency key is a fault
 * (the store throws).
 */
export interface Outbox {
  /** Writes one message; it becomes visible to `/v1/events` and the relay when the transaction commits. */
  append(message: OutboxMessage): Promise<void>;
}
