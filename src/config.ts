import path from 'node:path';
import { z } from 'zod';

const bool = (name: string, fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return fallback;
      const v = value.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      ctx.addIssue({ code: 'custom', message: `${name} must be true or false (got "${value}")` });
      return z.NEVER;
    });

const int = (name: string, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return undefined;
      const n = Number(value);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number from ${min} to ${max} (got "${value}")` });
        return z.NEVER;
      }
      return n;
    });

const fraction = (name: string) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return undefined;
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0 || n > 1) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a number from 0 to 1 (got "${value}")` });
        return z.NEVER;
      }
      return n;
    });

const url = (name: string, protocols: string[]) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return undefined;
      try {
        const parsed = new URL(value);
        if (!protocols.includes(parsed.protocol)) throw new Error('protocol');
        return value;
      } catch {
        ctx.addIssue({ code: 'custom', message: `${name} must be a ${protocols.join(' or ')} URL (got "${value}")` });
        return z.NEVER;
      }
    });

const modelSpec = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const v = value === undefined || value === '' ? 'local:gemma-3-270m-q4_k_m' : value;
    if (!/^(local|openai|anthropic|openai-compatible|scripted):.+$/.test(v)) {
      ctx.addIssue({
        code: 'custom',
        message: `SOMA_MODEL must be local:<file or name>, openai:<model>, anthropic:<model>, openai-compatible:<model> or scripted:<file> (got "${v}")`,
      });
      return z.NEVER;
    }
    return v;
  });

const envSchema = z.object({
  PORT: int('PORT', 0, 65535),
  HOST: z.string().optional(),
  SOMA_DATA_DIR: z.string().optional(),
  DATABASE_URL: url('DATABASE_URL', ['postgres:', 'postgresql:']),
  KAFKA_BROKERS: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return undefined;
      const brokers = value.split(',').map((b) => b.trim());
      if (brokers.some((b) => !/^[^\s:]+:\d{1,5}$/.test(b))) {
        ctx.addIssue({ code: 'custom', message: `KAFKA_BROKERS must be a comma-separated list of host:port (got "${value}")` });
        return z.NEVER;
      }
      return brokers;
    }),
  OPA_URL: url('OPA_URL', ['http:', 'https:']),
  SOMA_BRAIN_URL: url('SOMA_BRAIN_URL', ['http:', 'https:']),
  SOMA_BRAIN_TIMEOUT_MS: int('SOMA_BRAIN_TIMEOUT_MS', 1, 60_000),
  SOMA_MODEL: modelSpec,
  SOMA_MODELS_DIR: z.string().optional(),
  OPENAI_BASE_URL: url('OPENAI_BASE_URL', ['http:', 'https:']),
  OPENAI_API_KEY: z.string().optional(),
  ANTHROPIC_API_KEY: z.string().optional(),
  SOMA_ADMIN_TOKEN: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return undefined;
      if (value.length < 16) {
        ctx.addIssue({ code: 'custom', message: 'SOMA_ADMIN_TOKEN must be at least 16 characters' });
        return z.NEVER;
      }
      return value;
    }),
  SOMA_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  SOMA_TURN_TOKEN_BUDGET: int('SOMA_TURN_TOKEN_BUDGET', 1, 10_000_000),
  SOMA_TURN_DEADLINE_MS: int('SOMA_TURN_DEADLINE_MS', 1, 3_600_000),
  SOMA_CONTEXT_TOKENS: int('SOMA_CONTEXT_TOKENS', 512, 2_000_000),
  SOMA_MAX_OUTPUT_TOKENS: int('SOMA_MAX_OUTPUT_TOKENS', 16, 200_000),
  OTEL_EXPORTER_OTLP_ENDPOINT: url('OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']),
  SOMA_SHUTDOWN_GRACE_MS: int('SOMA_SHUTDOWN_GRACE_MS', 0, 3_600_000),
  SOMA_OUTBOX_RETENTION_DAYS: int('SOMA_OUTBOX_RETENTION_DAYS', 1, 36_500),
  SOMA_SSE_PING_MS: int('SOMA_SSE_PING_MS', 100, 600_000),
  SOMA_SWEEP_INTERVAL_MS: int('SOMA_SWEEP_INTERVAL_MS', 100, 3_600_000),
  SA01_ENABLE_RLM: bool('SA01_ENABLE_RLM', true),
  SA01_ENABLE_SINGLE_SHOT: bool('SA01_ENABLE_SINGLE_SHOT', false),
  SA01_RLM_MAX_ITERATIONS: int('SA01_RLM_MAX_ITERATIONS', 1, 10),
  SA01_RLM_CONVERGENCE_THRESHOLD: fraction('SA01_RLM_CONVERGENCE_THRESHOLD'),
  SOMA_MODEL_PRELOAD: bool('SOMA_MODEL_PRELOAD', false),
});

/** Validated configuration of a Soma process (SPEC §8). */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  kafkaBrokers?: string[];
  opaUrl?: string;
  brainUrl?: string;
  brainTimeoutMs: number;
  model: string;
  modelsDir?: string;
  openaiBaseUrl?: string;
  openaiApiKey?: string;
  anthropicApiKey?: string;
  adminToken?: string;
  logLevel: string;
  turnTokenBudget: number;
  turnDeadlineMs: number;
  contextTokens: number;
  maxOutputTokens: number;
  otlpEndpoint?: string;
  modelPreload: boolean;
  /** SIGTERM: how long running turns get to finish before they are closed with their best draft. */
  shutdownGraceMs: number;
  /** Published outbox rows older than this are deleted (all rows when no Kafka is configured). */
  outboxRetentionDays: number;
  /** `: ping` interval of a quiet SSE stream. */
  ssePingMs: number;
  /** Period of the upkeep sweep (crashed turns, timed-out approvals); default min(60 s, turn deadline + 10 s). */
  sweepIntervalMs?: number;
  rlm: {
    enabled: boolean;
    singleShot: boolean;
    maxIterations?: number;
    convergenceThreshold?: number;
  };
}

/** Thrown when the environment is invalid; the message is one line per wrong variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the configuration from environment variables. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? '');
      return issue.message.includes(variable) ? issue.message : `${variable}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT ?? 8080,
    host: e.HOST ?? '0.0.0.0',
    dataDir: path.resolve(e.SOMA_DATA_DIR ?? './data'),
    databaseUrl: e.DATABASE_URL,
    kafkaBrokers: e.KAFKA_BROKERS,
    opaUrl: e.OPA_URL,
    brainUrl: e.SOMA_BRAIN_URL,
    brainTimeoutMs: e.SOMA_BRAIN_TIMEOUT_MS ?? 2_000,
    model: e.SOMA_MODEL,
    modelsDir: e.SOMA_MODELS_DIR,
    openaiBaseUrl: e.OPENAI_BASE_URL,
    openaiApiKey: e.OPENAI_API_KEY,
    anthropicApiKey: e.ANTHROPIC_API_KEY,
    adminToken: e.SOMA_ADMIN_TOKEN,
    logLevel: e.SOMA_LOG_LEVEL ?? 'info',
    turnTokenBudget: e.SOMA_TURN_TOKEN_BUDGET ?? 200_000,
    turnDeadlineMs: e.SOMA_TURN_DEADLINE_MS ?? 300_000,
    contextTokens: e.SOMA_CONTEXT_TOKENS ?? 8_192,
    maxOutputTokens: e.SOMA_MAX_OUTPUT_TOKENS ?? 1_024,
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    modelPreload: e.SOMA_MODEL_PRELOAD,
    shutdownGraceMs: e.SOMA_SHUTDOWN_GRACE_MS ?? 30_000,
    outboxRetentionDays: e.SOMA_OUTBOX_RETENTION_DAYS ?? 7,
    ssePingMs: e.SOMA_SSE_PING_MS ?? 15_000,
    sweepIntervalMs: e.SOMA_SWEEP_INTERVAL_MS,
    rlm: {
      enabled: e.SA01_ENABLE_RLM,
      singleShot: e.SA01_ENABLE_SINGLE_SHOT,
      maxIterations: e.SA01_RLM_MAX_ITERATIONS,
      convergenceThreshold: e.SA01_RLM_CONVERGENCE_THRESHOLD,
    },
  };
}
