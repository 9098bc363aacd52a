import { readFileSync } from 'node:fs';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
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

/** The default model: the local SmolLM2-135M-Instruct Q4_1 (`soma model pull`). */
export const DEFAULT_MODEL = 'local:smollm2-135m-instruct-q4_1';
/** Longest completion of one iteration by default, chosen by `soma eval` (README). */
export const DEFAULT_MAX_OUTPUT_TOKENS = 256;
/**
 * An iteration that goes on waits this long (ms) for the next iterations' writes to go with it: a fast
 * model's iterations commit together (one statement, one commit), a slow model's each on its own,
 * their `iteration.completed` this much later (the next model call does not wait).
 */
export const DEFAULT_ITERATION_LINGER_MS = 5;

const modelSpec = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const v = value === undefined || value === '' ? DEFAULT_MODEL : value;
    if (!/^(local|openai|anthropic|openai-compatible|scripted|environment):.+$/.test(v)) {
      ctx.addIssue({
        code: 'custom',
        message: `SOMA_MODEL must be local:<file or name>, openai:<model>, anthropic:<model>, openai-compatible:<model>, scripted:<file> or environment:<file> (got "${v}")`,
      });
      return z.NEVER;
    }
    return v;
  });

/** A server name in `SOMA_MCP_SERVERS` (what capsules write in `config.server`). */
const mcpServerName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const mcpServerSchema = z.discriminatedUnion('transport', [
  z
    .object({
      transport: z.literal('stdio'),
      command: z.string().min(1),
      args: z.array(z.string()).optional(),
      env: z.record(z.string(), z.string()).optional(),
      cwd: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      transport: z.literal('http'),
      url: z.string().refine((u) => URL.canParse(u) && ['http:', 'https:'].includes(new URL(u).protocol), 'must be an http or https URL'),
      headers: z.record(z.string(), z.string()).optional(),
    })
    .strict(),
]);

/** An MCP server the operator declares in the `SOMA_MCP_SERVERS` file (SPEC §13.1). */
export type McpServerDeclaration = z.infer<typeof mcpServerSchema>;

/** The `SOMA_MCP_SERVERS` file: `{"<name>": {"transport": "stdio", …} | {"transport": "http", …}}`. */
export const mcpServersFileSchema = z.record(
  z.string().regex(mcpServerName, 'server names are letters, digits and . _ - (at most 64)'),
  mcpServerSchema,
);

/** Reads and validates the MCP server registry file; the message of a bad file never quotes its contents. */
const mcpServersFile = z
  .string()
  .optional()
  .transform((value, ctx): Record<string, McpServerDeclaration> => {
    if (value === undefined || value === '') return {};
    const fail = (why: string) => {
      ctx.addIssue({ code: 'custom', message: `SOMA_MCP_SERVERS (${value}): ${why}` });
      return z.NEVER;
    };
    let text: string;
    try {
      text = readFileSync(value, 'utf8');
    } catch (error) {
      return fail(`cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return fail('the file is not valid JSON');
    }
    if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
      const badNames = Object.keys(raw).filter((name) => !mcpServerName.test(name));
      if (badNames.length > 0) return fail(`server names are letters, digits and . _ - (at most 64), not ${badNames.map((n) => JSON.stringify(n)).join(', ')}`);
    }
    const parsed = mcpServersFileSchema.safeParse(raw);
    if (!parsed.success) {
      const where = (issuePath: PropertyKey[]) =>
        issuePath.length === 0 ? 'the file' : [`server ${JSON.stringify(String(issuePath[0]))}`, ...issuePath.slice(1).map(String)].join(' ');
      return fail(parsed.error.issues.map((i) => `${where(i.path)}: ${i.message}`).join(', '));
    }
    return parsed.data;
  });

const hostName = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$/i;

/** `SOMA_EGRESS_ALLOW`: host names, IP addresses and CIDR ranges that tools may reach although not public. */
const egressAllow = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value.trim() === '') return [];
    const entries = value.split(',').map((entry) => entry.trim().toLowerCase()).filter((entry) => entry !== '');
    const wrong = entries.filter((entry) => {
      const bare = entry.replace(/^\[(.*)\]$/, '$1');
      return !(ipaddr.isValid(bare) || ipaddr.isValidCIDR(bare) || hostName.test(entry));
    });
    if (wrong.length > 0) {
      ctx.addIssue({ code: 'custom', message: `SOMA_EGRESS_ALLOW must be a comma-separated list of host names, IP addresses and CIDR ranges (not: ${wrong.join(', ')})` });
      return z.NEVER;
    }
    return entries;
  });
const modelSpecOptional = (name: string) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return undefined;
      // The operator's model, any form SOMA_MODEL accepts (scripted and environment models for tests and benchmarks).
      if (!/^(local|openai|anthropic|openai-compatible|scripted|environment):.+$/.test(value)) {
        ctx.addIssue({ code: 'custom', message: `${name} must be local:<name>, openai:<model>, anthropic:<model>, openai-compatible:<model>, scripted:<file> or environment:<file> (got "${value}")` });
        return z.NEVER;
      }
      return value;
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
  SOMA_ITERATION_LINGER_MS: int('SOMA_ITERATION_LINGER_MS', 0, 1_000),
  SOMA_MODEL: modelSpec,
  SOMA_MODELS_DIR: z.string().optional(),
  SOMA_JUDGE_MODELS: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return undefined;
      const judges: Record<string, string> = {};
      for (const entry of value.split(',')) {
        const at = entry.indexOf('=');
        const name = entry.slice(0, at).trim();
        const spec = entry.slice(at + 1).trim();
        if (at <= 0 || !/^[a-z0-9_.-]{1,64}$/i.test(name) || !/^(local|openai|anthropic|openai-compatible|scripted|environment):.+$/.test(spec)) {
          ctx.addIssue({ code: 'custom', message: `SOMA_JUDGE_MODELS must be name=<model spec>[,name=<model spec>…] (got "${entry.trim()}")` });
          return z.NEVER;
        }
        judges[name] = spec;
      }
      return judges;
    }),
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
  SOMA_LLM_MAX_RETRIES: int('SOMA_LLM_MAX_RETRIES', 0, 10),
  SOMA_LLM_RETRY_DELAY_MS: int('SOMA_LLM_RETRY_DELAY_MS', 1, 60_000),
  SOMA_CONTEXT_TOKENS: int('SOMA_CONTEXT_TOKENS', 512, 2_000_000),
  SOMA_MAX_OUTPUT_TOKENS: int('SOMA_MAX_OUTPUT_TOKENS', 16, 200_000),
  SOMA_LOCAL_TOOL_PROTOCOL: z.enum(['decision', 'native'], { message: 'SOMA_LOCAL_TOOL_PROTOCOL must be decision or native' }).optional(),
  SOMA_EVAL_JUDGE_MODEL: modelSpecOptional('SOMA_EVAL_JUDGE_MODEL'),
  OTEL_EXPORTER_OTLP_ENDPOINT: url('OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']),
  SOMA_SHUTDOWN_GRACE_MS: int('SOMA_SHUTDOWN_GRACE_MS', 0, 3_600_000),
  SOMA_OUTBOX_RETENTION_DAYS: int('SOMA_OUTBOX_RETENTION_DAYS', 1, 36_500),
  SOMA_SSE_PING_MS: int('SOMA_SSE_PING_MS', 100, 600_000),
  SOMA_SWEEP_INTERVAL_MS: int('SOMA_SWEEP_INTERVAL_MS', 100, 3_600_000),
  SOMA_PGLITE_UPKEEP_INTERVAL_MS: int('SOMA_PGLITE_UPKEEP_INTERVAL_MS', 100, 86_400_000),
  SOMA_PG_PREPARED_STATEMENTS: bool('SOMA_PG_PREPARED_STATEMENTS', true),
  SA01_ENABLE_RLM: bool('SA01_ENABLE_RLM', true),
  SA01_ENABLE_SINGLE_SHOT: bool('SA01_ENABLE_SINGLE_SHOT', false),
  SA01_RLM_MAX_ITERATIONS: int('SA01_RLM_MAX_ITERATIONS', 1, 10),
  SA01_RLM_CONVERGENCE_THRESHOLD: fraction('SA01_RLM_CONVERGENCE_THRESHOLD'),
  SOMA_MODEL_PRELOAD: bool('SOMA_MODEL_PRELOAD', false),
  SOMA_MCP_SERVERS: mcpServersFile,
  SOMA_EGRESS_ALLOW: egressAllow,
  SOMA_ALLOW_SCRIPTED_MODELS: bool('SOMA_ALLOW_SCRIPTED_MODELS', false),
  SOMA_LOCAL_MODEL_CACHE: int('SOMA_LOCAL_MODEL_CACHE', 1, 16),
  SOMA_TENANT_TURNS_PER_MINUTE: int('SOMA_TENANT_TURNS_PER_MINUTE', 0, 1_000_000),
  SOMA_TENANT_TOKENS_PER_DAY: int('SOMA_TENANT_TOKENS_PER_DAY', 0, 1_000_000_000_000),
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
  /** How long an iteration that goes on waits for the next ones' writes to go with it (ms; 0 = at once). */
  iterationLingerMs: number;
  model: string;
  modelsDir?: string;
  /** Judges a capsule's scorer may name: name → model spec (`SOMA_JUDGE_MODELS`). */
  judges?: Record<string, string>;
  openaiBaseUrl?: string;
  openaiApiKey?: string;
  anthropicApiKey?: string;
  adminToken?: string;
  logLevel: string;
  turnTokenBudget: number;
  turnDeadlineMs: number;
  /** Retries of a failed model call before its first part (the one policy of every provider). */
  llmRetry: { maxRetries: number; initialDelayMs: number };
  contextTokens: number;
  maxOutputTokens: number;
  /** How local models call tools: a grammar-constrained decision step, or the chat template's function calling. */
  localToolProtocol: 'decision' | 'native';
  /** The operator's judge model for `match: "judge"` eval items (never chosen by a tenant). */
  evalJudgeModel?: string;
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
  /** Period of the embedded database's vacuum/analyse of grown tables (`SOMA_PGLITE_UPKEEP_INTERVAL_MS`, default 60 s). */
  pgliteUpkeepIntervalMs?: number;
  /** PostgreSQL: name each distinct statement text so it is parsed and planned once per connection (`SOMA_PG_PREPARED_STATEMENTS`, default true; false behind a pooler that cannot keep prepared statements). */
  pgPreparedStatements: boolean;
  rlm: {
    enabled: boolean;
    singleShot: boolean;
    maxIterations?: number;
    convergenceThreshold?: number;
  };
  /** The operator's MCP servers by name (`SOMA_MCP_SERVERS`); capsules refer to them by name only. */
  mcpServers: Record<string, McpServerDeclaration>;
  /** Hosts, IPs and CIDRs tools may reach although not public (`SOMA_EGRESS_ALLOW`). */
  egressAllow: string[];
  /** `scripted:` models accepted from capsules (`SOMA_ALLOW_SCRIPTED_MODELS`, tests and benchmarks). */
  allowScriptedModels: boolean;
  /** Local models kept loaded at once (`SOMA_LOCAL_MODEL_CACHE`); the least recently used is unloaded. */
  localModelCache: number;
  /** Per-tenant quotas; undefined = unlimited. */
  quotas: {
    /** `SOMA_TENANT_TURNS_PER_MINUTE` (default 60; 0 = unlimited). */
    turnsPerMinute?: number;
    /** `SOMA_TENANT_TOKENS_PER_DAY` (default unlimited; 0 = unlimited). */
    tokensPerDay?: number;
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
    iterationLingerMs: e.SOMA_ITERATION_LINGER_MS ?? DEFAULT_ITERATION_LINGER_MS,
    model: e.SOMA_MODEL,
    modelsDir: e.SOMA_MODELS_DIR,
    ...(e.SOMA_JUDGE_MODELS ? { judges: e.SOMA_JUDGE_MODELS } : {}),
    openaiBaseUrl: e.OPENAI_BASE_URL,
    openaiApiKey: e.OPENAI_API_KEY,
    anthropicApiKey: e.ANTHROPIC_API_KEY,
    adminToken: e.SOMA_ADMIN_TOKEN,
    logLevel: e.SOMA_LOG_LEVEL ?? 'info',
    turnTokenBudget: e.SOMA_TURN_TOKEN_BUDGET ?? 200_000,
    turnDeadlineMs: e.SOMA_TURN_DEADLINE_MS ?? 300_000,
    llmRetry: { maxRetries: e.SOMA_LLM_MAX_RETRIES ?? 3, initialDelayMs: e.SOMA_LLM_RETRY_DELAY_MS ?? 500 },
    contextTokens: e.SOMA_CONTEXT_TOKENS ?? 8_192,
    maxOutputTokens: e.SOMA_MAX_OUTPUT_TOKENS ?? DEFAULT_MAX_OUTPUT_TOKENS,
    localToolProtocol: e.SOMA_LOCAL_TOOL_PROTOCOL ?? 'decision',
    evalJudgeModel: e.SOMA_EVAL_JUDGE_MODEL,
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    modelPreload: e.SOMA_MODEL_PRELOAD,
    shutdownGraceMs: e.SOMA_SHUTDOWN_GRACE_MS ?? 30_000,
    outboxRetentionDays: e.SOMA_OUTBOX_RETENTION_DAYS ?? 7,
    ssePingMs: e.SOMA_SSE_PING_MS ?? 15_000,
    sweepIntervalMs: e.SOMA_SWEEP_INTERVAL_MS,
    pgliteUpkeepIntervalMs: e.SOMA_PGLITE_UPKEEP_INTERVAL_MS,
    pgPreparedStatements: e.SOMA_PG_PREPARED_STATEMENTS,
    rlm: {
      enabled: e.SA01_ENABLE_RLM,
      singleShot: e.SA01_ENABLE_SINGLE_SHOT,
      maxIterations: e.SA01_RLM_MAX_ITERATIONS,
      convergenceThreshold: e.SA01_RLM_CONVERGENCE_THRESHOLD,
    },
    mcpServers: e.SOMA_MCP_SERVERS,
    egressAllow: e.SOMA_EGRESS_ALLOW,
    allowScriptedModels: e.SOMA_ALLOW_SCRIPTED_MODELS,
    localModelCache: e.SOMA_LOCAL_MODEL_CACHE ?? 2,
    quotas: {
      turnsPerMinute: orUnlimited(e.SOMA_TENANT_TURNS_PER_MINUTE ?? 60),
      tokensPerDay: orUnlimited(e.SOMA_TENANT_TOKENS_PER_DAY),
    },
  };
}

/** 0 (or nothing) means no limit. */
function orUnlimited(value: number | undefined): number | undefined {
  return value === undefined || value === 0 ? undefined : value;
}
