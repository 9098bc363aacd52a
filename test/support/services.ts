/**
 * Where the test suite finds the real services that `.ci/run` (or a developer) started with the
 * scripts under `scripts/`. A missing service skips its tests locally, but fails them when
 * `SOMA_TEST_REQUIRE_SERVICES=1` (set by `.ci/run`), so CI can never pass by skipping.
 */
export interface TestServices {
  /** PostgreSQL URL (`scripts/postgres.sh start` prints it). */
  databaseUrl?: string;
  /** Kafka bootstrap servers (`scripts/kafka.sh start`). */
  kafkaBrokers?: string;
  /** Path to the `opa` binary (`scripts/opa.sh`). */
  opaBin?: string;
  /** Path to the GGUF test model (`soma model pull`). */
  modelPath?: string;
}

export const services: TestServices = {
  databaseUrl: process.env.SOMA_TEST_DATABASE_URL || undefined,
  kafkaBrokers: process.env.SOMA_TEST_KAFKA_BROKERS || undefined,
  opaBin: process.env.SOMA_TEST_OPA_BIN || undefined,
  modelPath: process.env.SOMA_TEST_MODEL || undefined,
};

export const requireServices = process.env.SOMA_TEST_REQUIRE_SERVICES === '1';

/**
 * True when the tests needing `name` should be skipped. Throws when services are required (CI)
 * but this one is not configured.
 */
export function skipWithout(name: keyof TestServices): boolean {
  if (services[name]) return false;
  if (requireServices) {
    throw new Error(`test service ${name} is required (SOMA_TEST_REQUIRE_SERVICES=1) but not configured`);
  }
  return true;
}
