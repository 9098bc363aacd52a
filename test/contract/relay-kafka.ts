import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Admin, Consumer, stringDeserializers } from '@platformatic/kafka';

/** Helpers the relay tests share: a consumer that collects a topic, broker control, throwaway databases. */

export interface ReceivedMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
  partition: number;
  offset: bigint;
  /** Epoch ms when the consumer got it. */
  receivedAt: number;
}

export const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/**
 * Reads `topic` from the beginning with a fresh consumer group until `until(messages)` holds, then
 * keeps reading for `settleMs` more (so late duplicates are counted). Throws on timeout.
 */
export async function collect({
  brokers,
  topic,
  until,
  timeoutMs = 60_000,
  settleMs = 0,
}: {
  brokers: string;
  topic: string;
  until: (messages: ReceivedMessage[]) => boolean;
  timeoutMs?: number;
  settleMs?: number;
}): Promise<ReceivedMessage[]> {
  const consumer = new Consumer<string, string, string, string>({
    groupId: uniqueName('relay-test'),
    clientId: uniqueName('relay-test-consumer'),
    bootstrapBrokers: brokers.split(','),
    deserializers: stringDeserializers,
    maxWaitTime: 100,
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
  });
  const messages: ReceivedMessage[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    await new Promise<void>((resolve, reject) => {
      let settleTimer: NodeJS.Timeout | undefined;
      const timeout = setTimeout(() => {
        reject(new Error(`timed out after ${timeoutMs} ms reading ${topic}: got ${messages.length} messages`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timeout);
        resolve();
      };
      stream.on('data', (message) => {
        messages.push({
          key: message.key,
          value: message.value,
          headers: Object.fromEntries(message.headers),
          partition: message.partition,
          offset: message.offset,
          receivedAt: Date.now(),
        });
        if (settleTimer === undefined && until(messages)) {
          if (settleMs === 0) finish();
          else settleTimer = setTimeout(finish, settleMs);
        }
      });
      stream.on('error', reject);
    });
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return messages;
}

export const uniqueEventIds = (messages: ReceivedMessage[]) => new Set(messages.map((message) => message.headers.event_id));

export async function describeTopic(brokers: string, topic: string): Promise<{ partitions: number; retentionMs: string | undefined }> {
  const admin = new Admin({ clientId: uniqueName('relay-test-admin'), bootstrapBrokers: brokers.split(',') });
  try {
    const metadata = await admin.metadata({ topics: [topic] });
    const [config] = await admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: topic, configurationKeys: ['retention.ms'] }] });
    return {
      partitions: metadata.topics.get(topic)?.partitionsCount ?? 0,
      retentionMs: config?.configs.find((entry) => entry.name === 'retention.ms')?.value ?? undefined,
    };
  } finally {
    await admin.close();
  }
}

const kafkaScript = fileURLToPath(new URL('../../scripts/kafka.sh', import.meta.url));
const run = promisify(execFile);

/**
 * `scripts/kafka.sh stop|start|url` (the broker the test suite uses), or with `instance` a broker of its
 * own for this checkout (own port, config and data folder; the cached jars are shared).
 */
export async function kafkaScriptCommand(command: 'start' | 'stop' | 'url', instance?: string): Promise<string> {
  const { stdout } = await run('bash', [kafkaScript, command, ...(instance ? [instance] : [])], { timeout: 180_000 });
  return stdout.trim().split('\n').at(-1) ?? '';
}

/**
 * A Kafka broker only the caller uses (`scripts/kafka.sh … <name>`), for tests that stop and restart a
 * broker while other files use the suite's shared one. `start` waits until it is ready and returns the
 * bootstrap address; both are idempotent; `stop` keeps the data, so `start` resumes it with its topics.
 */
export function kafkaInstance(name: string): { start: () => Promise<string>; stop: () => Promise<void> } {
  return {
    start: () => kafkaScriptCommand('start', name),
    stop: async () => {
      await kafkaScriptCommand('stop', name);
    },
  };
}

/** True when `brokers` is the broker `scripts/kafka.sh` runs (so the tests may stop and restart it). */
export function ownsBroker(brokers: string | undefined): boolean {
  if (!brokers) return false;
  const scripted = execFileSync('bash', [kafkaScript, 'url'], { encoding: 'utf8' }).trim();
  return brokers.split(',').map((broker) => broker.trim()).includes(scripted);
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, { timeoutMs = 60_000, intervalMs = 100, what = 'a condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
