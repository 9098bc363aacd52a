import { Admin, GenericError, Producer, stringSerializers } from '@platformatic/kafka';

/** One record to send: the relay builds it from an outbox row. */
export interface RelayMessage {
  topic: string;
  /** Kafka key: the row's `partition_key` (the tenant id), so a tenant's events keep their order. */
  key: string;
  /** JSON of the event envelope. */
  value: string;
  headers: Record<string, string>;
}

/** Where the relay sends a batch. Resolves once the whole batch is acknowledged, or throws a {@link PublishError}. */
export interface EventPublisher {
  publishBatch(messages: RelayMessage[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * A failed publish. `transient` = the broker could not be reached or asked us to retry (network,
 * timeout, leader moving): the same records will go through later. Otherwise the broker rejected
 * the records themselves (too large, invalid topic, …), which a retry may not fix.
 */
export class PublishError extends Error {
  readonly transient: boolean;

  constructor(message: string, { transient, cause }: { transient: boolean; cause?: unknown }) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'PublishError';
    this.transient = transient;
  }
}

export interface EnsureTopicOptions {
  partitions?: number;
  /** Retention of the topic; SPEC §7: 30 days. */
  retentionMs?: number;
  /** Replication factor; -1 = the broker's default. */
  replicas?: number;
}

export interface KafkaPublisher extends EventPublisher {
  /** Creates the topic when it does not exist yet (an existing topic is left as it is). */
  ensureTopic(topic: string, options?: EnsureTopicOptions): Promise<void>;
}

export interface KafkaPublisherOptions {
  /** Bootstrap servers, `host:port` list or comma-separated string (`KAFKA_BROKERS`). */
  brokers: string | string[];
  clientId?: string;
  /** Idempotent producer (acks = all, one request in flight per broker). */
  idempotent?: boolean;
  /** Per-request timeout. */
  requestTimeoutMs?: number;
  /** Retries of one request inside the client before the batch fails (≥ 2 for the idempotent producer). */
  retries?: number;
  retryDelayMs?: number;
}

export const THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1000;

export function parseBrokers(brokers: string | string[]): string[] {
  const list = (Array.isArray(brokers) ? brokers : brokers.split(','))
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0);
  if (list.length === 0) throw new Error('no Kafka brokers configured');
  return list;
}

/** Kafka producer + admin for the outbox relay (@platformatic/kafka). */
export function createKafkaPublisher({
  brokers,
  clientId = 'soma-relay',
  idempotent = true,
  requestTimeoutMs = 5_000,
  retries = 2,
  retryDelayMs = 250,
}: KafkaPublisherOptions): KafkaPublisher {
  const bootstrapBrokers = parseBrokers(brokers);
  const newProducer = () =>
    new Producer<string, string, string, string>({
      clientId,
      bootstrapBrokers,
      serializers: stringSerializers,
      idempotent,
      acks: -1,
      timeout: requestTimeoutMs,
      retries: Math.max(retries, idempotent ? 2 : 0),
      retryDelay: retryDelayMs,
      connectTimeout: requestTimeoutMs,
      requestTimeout: requestTimeoutMs,
    });
  let producer: Producer<string, string, string, string> | undefined;
  let closed = false;

  // After a failed send the outcome of some records may be unknown (written but not acknowledged).
  // The client does not bump the producer epoch for that, so its sequence numbers could make the
  // broker drop a later, different batch as a "duplicate": start over with a fresh producer id.
  const discardProducer = async () => {
    const old = producer;
    producer = undefined;
    if (old) await new Promise<void>((resolve) => old.close(true, () => resolve()));
  };

  return {
    async publishBatch(messages) {
      if (closed) throw new PublishError('the Kafka publisher is closed', { transient: false });
      if (messages.length === 0) return;
      producer ??= newProducer();
      try {
        await producer.send({ messages });
      } catch (cause) {
        await discardProducer();
        throw new PublishError(describeKafkaError(cause), { transient: isTransientKafkaError(cause), cause });
      }
    },

    async ensureTopic(topic, { partitions = 3, retentionMs = THIRTY_DAYS_MS, replicas = -1 } = {}) {
      const admin = new Admin({ clientId: `${clientId}-admin`, bootstrapBrokers, timeout: requestTimeoutMs, retries, retryDelay: retryDelayMs });
      try {
        const existing = await admin.listTopics();
        if (existing.includes(topic)) return;
        try {
          await admin.createTopics({
            topics: [topic],
            partitions,
            replicas,
            configs: [{ name: 'retention.ms', value: String(retentionMs) }],
          });
        } catch (cause) {
          // Another relay created it between our list and create.
          if (findApiCode(cause, 'TOPIC_ALREADY_EXISTS')) return;
          throw cause;
        }
      } catch (cause) {
        throw new PublishError(`cannot create Kafka topic ${topic}: ${describeKafkaError(cause)}`, { transient: isTransientKafkaError(cause), cause });
      } finally {
        await admin.close().catch(() => undefined);
      }
    },

    async close() {
      closed = true;
      await discardProducer();
    },
  };
}

/** `/readyz` probe of the Kafka cluster: lists its topics (metadata) within `timeoutMs`; rejects when it cannot. */
export async function probeKafka(brokers: string | string[], { timeoutMs = 2_000 }: { timeoutMs?: number } = {}): Promise<void> {
  const admin = new Admin({ clientId: 'soma-readyz', bootstrapBrokers: parseBrokers(brokers), timeout: timeoutMs, retries: 0, connectTimeout: timeoutMs, requestTimeout: timeoutMs });
  try {
    await admin.listTopics();
  } catch (cause) {
    throw new Error(`Kafka unreachable: ${describeKafkaError(cause)}`, { cause });
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** True when retrying the same records later may succeed (the broker was unreachable or busy). */
export function isTransientKafkaError(error: unknown): boolean {
  const leaves = leafErrors(error);
  if (leaves.length === 0) return true;
  return leaves.some((leaf) => {
    const code = (leaf as { code?: unknown }).code;
    if (code === 'PLT_KFK_NETWORK' || code === 'PLT_KFK_TIMEOUT') return true;
    if (code === 'PLT_KFK_PROTOCOL') return (leaf as { canRetry?: unknown }).canRetry === true;
    // Socket errors that escaped the client's wrapping.
    return typeof code === 'string' && /^E[A-Z]+$/.test(code);
  });
}

function leafErrors(error: unknown, depth = 0): Error[] {
  if (!(error instanceof Error) || depth > 8) return [];
  const nested: Error[] = [];
  if (error instanceof AggregateError) for (const inner of error.errors) nested.push(...leafErrors(inner, depth + 1));
  if (nested.length > 0) return nested;
  if (GenericError.isGenericError(error) && error.cause instanceof Error && (error.code === 'PLT_KFK_MULTIPLE' || error.code === 'PLT_KFK_RESPONSE')) {
    return leafErrors(error.cause, depth + 1);
  }
  return [error];
}

function findApiCode(error: unknown, apiId: string): boolean {
  return leafErrors(error).some((leaf) => (leaf as { apiId?: unknown }).apiId === apiId);
}

function describeKafkaError(error: unknown): string {
  const leaves = leafErrors(error);
  const first = leaves[0];
  const outer = error instanceof Error ? error.message : String(error);
  if (!first || first === error) return outer;
  const describe = (leaf: Error) => {
    const apiId = (leaf as { apiId?: unknown }).apiId;
    return typeof apiId === 'string' ? `${apiId}: ${leaf.message}` : leaf.message;
  };
  const detail = [...new Set(leaves.map(describe))].slice(0, 3).join('; ');
  return `${outer}: ${detail}`;
}
