import type { Config } from '../../config.js';
import type { Soma } from '../../main.js';
import { createKafkaPublisher, createOutboxRelay, THIRTY_DAYS_MS } from '../../adapters/relay/index.js';
import { CHAT_EVENTS_TOPIC } from '../../app/events.js';

/**
 * Starts the outbox → Kafka relay inside this process: ensures `chat.events` exists (30 days
 * retention), then polls until the returned stop function is called (it finishes the batch in flight).
 */
export async function startOutboxRelay(soma: Soma, cfg: Config): Promise<() => Promise<void>> {
  const publisher = createKafkaPublisher({ brokers: cfg.kafkaBrokers ?? [] });
  try {
    await publisher.ensureTopic(CHAT_EVENTS_TOPIC, { partitions: 3, retentionMs: THIRTY_DAYS_MS });
  } catch (err) {
    soma.logger.warn({ err }, 'could not ensure the Kafka topic now; the relay keeps retrying');
  }
  const relay = createOutboxRelay({ database: soma.database, publisher, clock: soma.ctx.clock, logger: soma.logger, metrics: soma.metrics });
  relay.start();
  soma.logger.info({ brokers: cfg.kafkaBrokers }, 'outbox relay started');
  return async () => {
    await relay.stop();
    await publisher.close();
  };
}
