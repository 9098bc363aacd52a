/**
 * The composition root: reads the configuration, builds every adapter and hands them to the use
 * cases and entry points. The only module that imports everything; the CLI (`entry/cli`) reaches the
 * adapters only through the functions exported here.
 */
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { serve, type ServerType } from '@hono/node-server';
import { pino, type Logger as PinoLogger } from 'pino';
import { createHttpBrain, createLocalBrain } from './adapters/brain/index.js';
import { createEgressPolicy, type EgressPolicy } from './adapters/egress/index.js';
import { cryptoIdSource } from './adapters/ids/index.js';
import { createMetrics, type Metrics } from './adapters/metrics/index.js';
import { createModelFactory } from './adapters/model/model-factory.js';
import { countTiktokens } from './adapters/model/tiktoken-counter.js';
import { createOpaHttpPolicy, createOpaWasmPolicy } from './adapters/policy/index.js';
import { createKafkaPublisher, createOutboxRelay, probeKafka, THIRTY_DAYS_MS } from './adapters/relay/index.js';
import { probeHttp } from './adapters/probes/index.js';
import { createDrizzleStore, openConfiguredDatabase, type Database } from './adapters/store/index.js';
import { builtinToolNames, closeCalculatorWorkers, createBuiltinTool, createMcpServerRegistry, createToolRunner, type McpServerRegistry } from './adapters/tools/index.js';
import { listLocalModels } from './adapters/model/local-catalogue.js';
import { readCatalogue, type CatalogueTool } from './app/catalogue.js';
import type { AppContext, StoreContext } from './app/context.js';
import { CHAT_EVENTS_TOPIC } from './app/events.js';
import { authenticate } from './app/tenancy.js';
import { LiveTurns } from './app/live-turns.js';
import { metricModelLabel } from './app/send-message/index.js';
import { InterruptedError } from './app/turn/index.js';
import { pruneOutbox, sweepTurns } from './app/upkeep.js';
import { recoverInterruptedEvals, stopBackgroundEvals } from './app/evals/index.js';
import type { Config } from './config.js';
import { HealthMonitor } from './core/health/index.js';
import { createBrainServerApp, createHttpApp } from './entry/http/index.js';
import type { Brain } from './ports/brain.js';
import { systemClock, type Clock } from './ports/clock.js';
import type { ModelFactory } from './ports/model-factory.js';
import type { PolicyEngine } from './ports/tools.js';

export { defaultModelsDir, resolveLocalModelPath } from './adapters/model/model-factory.js';
export { defaultModelSpec, knownModelSpecs, pullModel } from './adapters/model/pull/index.js';

/** An eval run with no stored result for this long belongs to a stopped process (no item takes that long). */
const EVAL_STALE_MS = 30 * 60_000;

/** Counts tokens for replay's recorded model: the o200k tiktoken encoding. */
const countTokens = (text: string) => countTiktokens(text, 'o200k_base');

export interface Soma {
  config: Config;
  ctx: AppContext;
  app: ReturnType<typeof createHttpApp>;
  database: Database;
  metrics: Metrics;
  logger: PinoLogger;
  /** The operator's MCP servers (`SOMA_MCP_SERVERS`); `names()` lists them for a catalogue. */
  mcpServers: McpServerRegistry;
  /** Where tools may connect (`SOMA_EGRESS_ALLOW`). */
  egress: EgressPolicy;
  /** Starts the HTTP server; resolves once it listens. */
  listen(options?: { port?: number; host?: string }): Promise<{ server: ServerType; port: number }>;
  /** Starts relaying the outbox to Kafka (`KAFKA_BROKERS`) in this process; resolves to its stop function. */
  startRelay(): Promise<() => Promise<void>>;
  /**
   * Graceful drain (SIGTERM, SPEC §13.4): `/readyz` answers 503 at once and no new turn starts (503
   * `NOT_READY`); running turns get `SOMA_SHUTDOWN_GRACE_MS` to finish, then close with their best
   * draft (`interrupted`); then the listener stops accepting. Call `close()` after it.
   */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface CreateSomaOptions {
  config: Config;
  clock?: Clock;
  logger?: PinoLogger;
  /** Replace the model factory (tests). */
  models?: ModelFactory;
  /** Replace the brain (tests). */
  brain?: Brain;
  /** Run migrations on start (default true). */
  migrate?: boolean;
  /** Use this database instead of opening the configured one (tests); it is not closed by `close()`. */
  database?: Database;
  /** Where the process logger (with its redaction) writes its lines instead of stdout (tests capture them); unused with `logger`. */
  logStream?: { write(line: string): void };
}

/**
 * Log paths that may carry secrets (SPEC §13.1): capability config, headers, environments, keys.
 * Pino censors them in every line this process writes.
 */
export const redactedLogPaths = [
  'config.headers', 'config.env', '*.config.headers', '*.config.env', 'capability.config', 'capabilities[*].config', 'tools[*].config',
  'headers.authorization', 'req.headers.authorization', 'req.headers.cookie', 'request.headers.authorization',
  'authorization', 'api_key', 'apiKey', 'token', 'password', 'secret', '*.api_key', '*.apiKey', '*.token', '*.password', '*.secret',
];

export async function createSoma({ config, clock = systemClock, logger, models, brain, migrate = true, database: given, logStream }: CreateSomaOptions): Promise<Soma> {
  const options = { level: config.logLevel, base: { service: 'soma' }, redact: { paths: redactedLogPaths, censor: '***' } };
  const log = logger ?? (logStream ? pino(options, logStream) : pino(options));
  const database = given ?? (await openConfiguredDatabase(config));
  const closers: (() => Promise<unknown>)[] = given ? [] : [() => database.close()];
  try {
    if (migrate) await database.migrate();
    if (config.otlpEndpoint) {
      const { startTracing } = await import('./adapters/telemetry/index.js');
      const tracing = startTracing({ endpoint: config.otlpEndpoint });
      closers.push(() => tracing.shutdown());
    }
    const metrics = createMetrics({
      defaultMetrics: true,
      knownModelLabels: [metricModelLabel(config.model)],
      toolLabels: [...builtinToolNames, 'mcp', '(unknown)'],
    });
    const live = new LiveTurns();
    const health = new HealthMonitor();
    health.report('database', true);

    const theBrain =
      brain ??
      (config.brainUrl
        ? createHttpBrain({ url: config.brainUrl, token: config.adminToken, timeoutMs: config.brainTimeoutMs, metrics })
        : createLocalBrain({ database, clock, metrics }));

    const policy: PolicyEngine = config.opaUrl ? createOpaHttpPolicy({ url: config.opaUrl }) : await createOpaWasmPolicy({});
    // The tenant boundary (SPEC §13.1): tools connect only where the egress policy allows, MCP only
    // to the operator's registered servers (pooled, closed on shutdown).
    const egress = createEgressPolicy({ allow: config.egressAllow });
    const mcpServers = createMcpServerRegistry({ servers: config.mcpServers, fetch: egress.fetch, logger: log });
    closers.push(() => mcpServers.close(), () => egress.close(), () => closeCalculatorWorkers());
    const toolRunner = createToolRunner({ policy, clock, recallFor: (scope) => (query) => theBrain.recall(scope, query), metrics, egress, mcpServers });
    const retry = {
      ...config.llmRetry,
      onRetry: ({ attempt, error, delayMs }: { attempt: number; error: { code: string; message: string }; delayMs: number }) =>
        log.warn({ attempt, code: error.code, delayMs }, 'model call failed; retrying'),
    };
    const modelFactory =
      models ??
      createModelFactory({
        modelsDir: config.modelsDir,
        openaiBaseUrl: config.openaiBaseUrl,
        openaiApiKey: config.openaiApiKey,
        anthropicApiKey: config.anthropicApiKey,
        contextTokens: config.contextTokens,
        // The operator's models: the default and the judges it names (SOMA_JUDGE_MODELS, SOMA_EVAL_JUDGE_MODEL).
        operatorModels: [config.model, ...Object.values(config.judges ?? {}), ...(config.evalJudgeModel ? [config.evalJudgeModel] : [])],
        allowScripted: config.allowScriptedModels,
        localModelCache: config.localModelCache,
        localToolProtocol: config.localToolProtocol,
        retry,
      });
    if ('closeAll' in modelFactory) closers.push(() => (modelFactory as { closeAll(): Promise<void> }).closeAll());

    const ctx: AppContext = {
      store: createDrizzleStore(database),
      brain: theBrain,
      models: modelFactory,
      toolRunner,
      clock,
      ids: cryptoIdSource,
      countTokens,
      builtinTools: builtinToolNames,
      health,
      metrics,
      logger: log,
      live,
      admission: { mcpServers: mcpServers.names(), allowScriptedModels: config.allowScriptedModels },
      settings: {
        defaultModel: config.model,
        rlm: config.rlm,
        turnTokenBudget: config.turnTokenBudget,
        turnDeadlineMs: config.turnDeadlineMs,
        contextTokens: config.contextTokens,
        maxOutputTokens: config.maxOutputTokens,
        brainTimeoutMs: config.brainTimeoutMs,
        iterationLingerMs: config.iterationLingerMs,
        ssePingMs: config.ssePingMs,
        streamPollMs: 250,
        quotas: config.quotas,
        ...(config.judges ? { judges: config.judges } : {}),
        ...(config.evalJudgeModel ? { evalJudgeModel: config.evalJudgeModel } : {}),
      },
    };

    // Turns a dead process left running are closed with their best committed draft. On the embedded
    // database nobody else can be running them; on PostgreSQL other servers may be, but no run of a
    // turn outlasts its deadline (the loop aborts there), so a turn whose current run began more than
    // deadline + 10 s ago belongs to a process that died. The same sweep settles timed-out approvals.
    const sweep = async (olderThanMs: number) => {
      const { recovered, expired } = await sweepTurns(ctx, { olderThanMs });
      if (recovered > 0) log.warn({ recovered }, 'closed turns left running by a stopped process with their best committed draft');
      if (expired > 0) log.info({ expired }, 'approvals timed out (treated as denied)');
      const evals = await recoverInterruptedEvals(ctx, { olderThanMs: olderThanMs < 0 ? -1 : EVAL_STALE_MS });
      if (evals > 0) log.warn({ evals }, 'marked eval runs left running by a stopped process as interrupted');
    };
    closers.unshift(() => stopBackgroundEvals(ctx));
    const staleAfterMs = config.turnDeadlineMs + 10_000;
    await sweep(database.driver === 'pglite' && !given ? -1 : staleAfterMs);
    const every = (ms: number, work: () => Promise<unknown>, what: string) => {
      const timer = setInterval(() => void work().catch((err) => log.warn({ err }, `${what} failed`)), ms);
      timer.unref();
      closers.unshift(async () => clearInterval(timer));
    };
    every(config.sweepIntervalMs ?? Math.min(60_000, staleAfterMs), () => sweep(staleAfterMs), 'the turn sweep');
    // Outbox retention: published rows (every row when no Kafka is configured) older than the
    // retention are deleted in batches, at start and hourly. Iterations, turns, messages and memories
    // are the product's record (trace, replay, rollback) and are not deleted here.
    const prune = async () => {
      const deleted = await pruneOutbox(ctx, { retentionDays: config.outboxRetentionDays, relayed: config.kafkaBrokers !== undefined });
      if (deleted > 0) {
        log.info({ deleted }, 'deleted outbox rows past their retention');
        if (database.driver === 'pglite') await database.query(sql`VACUUM ANALYZE outbox_messages`);
      }
    };
    void prune().catch((err) => log.warn({ err }, 'outbox retention failed'));
    every(3_600_000, prune, 'outbox retention');
    // PGlite has no autovacuum nor checkpointer: every minute the server vacuums and analyses the
    // tables that grew and checkpoints a WAL past max_wal_size.
    const { upkeep } = database;
    if (upkeep) {
      const maintain = async () => {
        const started = performance.now();
        const done = await upkeep();
        if (done.vacuumed.length > 0 || done.checkpointed) log.info({ ...done, ms: Math.round(performance.now() - started) }, 'embedded database upkeep');
      };
      void maintain().catch((err) => log.warn({ err }, 'embedded database upkeep failed'));
      every(config.pgliteUpkeepIntervalMs ?? 60_000, maintain, 'embedded database upkeep');
    }
    // The outbox_pending gauge, with or without a relay in this process.
    const refreshPending = async () => metrics.setPending(await ctx.store.events.countPending());
    void refreshPending().catch(() => undefined);
    every(5_000, refreshPending, 'refreshing outbox_pending');

    const readiness: Record<string, () => Promise<unknown>> = { database: () => database.ping() };
    const { kafkaBrokers, opaUrl, brainUrl } = config;
    if (kafkaBrokers) readiness.kafka = () => probeKafka(kafkaBrokers);
    if (opaUrl) readiness.opa = () => probeHttp(`${opaUrl.replace(/\/+$/, '')}/health`);
    if (brainUrl) readiness.brain = () => probeHttp(`${brainUrl.replace(/\/+$/, '')}/readyz`);

    const catalogueTools = builtinCatalogueTools(clock);
    const app = createHttpApp({
      ctx,
      adminToken: config.adminToken,
      metricsRegistry: metrics.registry,
      readiness,
      serveBrain: !config.brainUrl,
      catalogue: () => readCatalogue({ tools: catalogueTools, defaultModel: config.model, localModels: listLocalModels(config.modelsDir), models: modelFactory, allowScriptedModels: config.allowScriptedModels, mcpServers: mcpServers.names() }),
      studio: { apiKeyFile: embeddedApiKeyFile(config) },
    });

    const servers: ServerType[] = [];
    return {
      config,
      ctx,
      app,
      database,
      metrics,
      logger: log,
      mcpServers,
      egress,
      listen: async (options) => {
        const listening = await listenOn(app, { port: options?.port ?? config.port, host: options?.host ?? config.host }, closers);
        servers.push(listening.server);
        return listening;
      },
      drain: async () => {
        const running = live.size;
        log.info({ running, grace_ms: config.shutdownGraceMs }, 'draining: no new turns; running turns get the grace period to finish');
        // The listener stays open during the grace: /readyz says 503, new turns are refused with 503,
        // and clients of running turns can still reattach to their streams.
        const stopped = await live.drain({ graceMs: config.shutdownGraceMs, closeMs: 10_000, reason: () => new InterruptedError('the server is shutting down') });
        if (stopped > 0) log.warn({ stopped }, 'turns still running after the grace period were closed with their best draft');
        for (const server of servers) {
          server.close();
          (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        }
      },
      startRelay: async () => {
        const publisher = createKafkaPublisher({ brokers: config.kafkaBrokers ?? [] });
        try {
          await publisher.ensureTopic(CHAT_EVENTS_TOPIC, { partitions: 3, retentionMs: THIRTY_DAYS_MS });
        } catch (err) {
          log.warn({ err }, 'could not ensure the Kafka topic now; the relay keeps retrying');
        }
        const relay = createOutboxRelay({ database, publisher, clock, logger: log, metrics });
        relay.start();
        log.info({ brokers: config.kafkaBrokers }, 'outbox relay started');
        return async () => {
          await relay.stop();
          await publisher.close();
        };
      },
      close: async () => {
        for (const close of closers) await close().catch((err) => log.warn({ err }, 'shutdown step failed'));
      },
    };
  } catch (err) {
    if (!given) await database.close().catch(() => undefined);
    throw err;
  }
}

const refusedFetch: typeof globalThis.fetch = async () => {
  throw new Error('the catalogue never fetches');
};

/** The built-in tools with their argument schemas, as the capsule editor offers them. */
function builtinCatalogueTools(clock: Clock): CatalogueTool[] {
  return builtinToolNames.map((name) => {
    // Built only to read its definition: never executed, so it needs no recall and no network.
    const tool = createBuiltinTool({ capability: { name, kind: 'builtin', enabled: true }, clock, recall: async () => [], fetch: refusedFetch });
    return { name, kind: 'builtin', description: tool.definition.description ?? '', input_schema: tool.definition.inputSchema as Record<string, unknown> };
  });
}

/** On the embedded default, where `soma serve` writes the "default" tenant's key (shown by the Studio's sign-in page). */
function embeddedApiKeyFile(config: Config): string | undefined {
  if (config.databaseUrl) return undefined;
  const relative = path.relative(process.cwd(), path.join(config.dataDir, 'api-key'));
  return relative.startsWith('..') || path.isAbsolute(relative) ? 'api-key in the data folder (SOMA_DATA_DIR)' : `./${relative}`;
}

export interface BrainServer {
  app: ReturnType<typeof createBrainServerApp>;
  database: Database;
  listen(options?: { port?: number; host?: string }): Promise<{ server: ServerType; port: number }>;
  close(): Promise<void>;
}

/**
 * `soma brain serve`: the in-process brain on the configured database (or `database`, not closed by
 * `close()`), served alone with its learning history, rollback and reset.
 */
export async function createBrainServer({ config, database: given, clock = systemClock }: { config: Config; database?: Database; clock?: Clock }): Promise<BrainServer> {
  const database = given ?? (await openConfiguredDatabase(config));
  const closers: (() => Promise<unknown>)[] = given ? [] : [() => database.close()];
  if (!given) await database.migrate();
  const metrics = createMetrics({ defaultMetrics: true });
  const store = createDrizzleStore(database);
  const app = createBrainServerApp({
    brain: createLocalBrain({ database, clock, metrics }),
    authenticate: (apiKey) => authenticate({ store }, { apiKey }),
    adminToken: config.adminToken,
    readiness: { database: () => database.ping() },
    metricsRegistry: metrics.registry,
  });
  return {
    app,
    database,
    listen: (options) => listenOn(app, { port: options?.port ?? config.port, host: options?.host ?? config.host }, closers),
    close: async () => {
      for (const close of closers) await close().catch(() => undefined);
    },
  };
}

/** What the store-only commands (migrate, admin, replay) need: the store with ids, clock and tokenizer. */
export interface StoreHandle {
  ctx: StoreContext & Pick<AppContext, 'countTokens'>;
  driver: Database['driver'];
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/** Opens the configured database as a Store, without the server around it (no migration, no sweep). */
export async function openStore(config: Config): Promise<StoreHandle> {
  const database = await openConfiguredDatabase(config);
  return {
    ctx: { store: createDrizzleStore(database), ids: cryptoIdSource, clock: systemClock, countTokens },
    driver: database.driver,
    migrate: () => database.migrate(),
    close: () => database.close(),
  };
}

function listenOn(app: { fetch: (request: Request) => Response | Promise<Response> }, { port, host }: { port: number; host: string }, closers: (() => Promise<unknown>)[]) {
  return new Promise<{ server: ServerType; port: number }>((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => resolve({ server, port: info.port }));
    server.once('error', reject);
    closers.unshift(
      () =>
        new Promise<void>((done) => {
          server.close(() => done());
          (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        }),
    );
  });
}
