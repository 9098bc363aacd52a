/**
 * The composition root: reads the configuration, builds every adapter and hands them to the use
 * cases and entry points. The only module that imports everything.
 */
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { pino, type Logger as PinoLogger } from 'pino';
import { createBrainRoutes } from './entry/http/brain-routes.js';
import { createLearningRoutes } from './entry/http/learning-routes.js';
import { createCatalogueRoutes } from './entry/http/catalogue-routes.js';
import { createConversationListRoutes } from './entry/http/conversation-list-routes.js';
import { createReplayRoutes } from './entry/http/replay-routes.js';
import { mountStudio } from './entry/http/studio.js';
import { createHttpApp } from './entry/http/app.js';
import { createLocalBrain, createHttpBrain } from './adapters/brain/index.js';
import { createMetrics, type Metrics } from './adapters/metrics/index.js';
import { createModelFactory } from './adapters/model/model-factory.js';
import { listLocalModels } from './adapters/model/local-catalogue.js';
import { createOpaHttpPolicy, createOpaWasmPolicy } from './adapters/policy/index.js';
import { openConfiguredDatabase, type Database } from './adapters/store/index.js';
import { createToolRunner } from './adapters/tools/index.js';
import { readCatalogue } from './app/catalogue.js';
import type { AppContext } from './app/context.js';
import type { ModelFactory } from './app/model-router.js';
import { recoverInterruptedTurns } from './app/send-message.js';
import { HealthMonitor } from './core/health/index.js';
import type { Config } from './config.js';
import type { Brain } from './ports/brain.js';
import { systemClock, type Clock } from './ports/clock.js';
import type { PolicyEngine } from './ports/tools.js';

export interface Soma {
  config: Config;
  ctx: AppContext;
  app: ReturnType<typeof createHttpApp>;
  database: Database;
  metrics: Metrics;
  logger: PinoLogger;
  /** Starts the HTTP server; resolves once it listens. */
  listen(options?: { port?: number; host?: string }): Promise<{ server: ServerType; port: number }>;
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
}

export async function createSoma({ config, clock = systemClock, logger, models, brain, migrate = true, database: given }: CreateSomaOptions): Promise<Soma> {
  const log = logger ?? pino({ level: config.logLevel, base: { service: 'soma' } });
  const database = given ?? (await openConfiguredDatabase(config));
  const closers: (() => Promise<unknown>)[] = given ? [] : [() => database.close()];
  try {
    if (migrate) await database.migrate();
    if (config.otlpEndpoint) {
      const { startTracing } = await import('./adapters/telemetry/index.js');
      const tracing = startTracing({ endpoint: config.otlpEndpoint });
      closers.push(() => tracing.shutdown());
    }
    const metrics = createMetrics({ defaultMetrics: true });
    const health = new HealthMonitor();
    health.report('database', true);

    const theBrain =
      brain ??
      (config.brainUrl
        ? createHttpBrain({ url: config.brainUrl, token: config.adminToken, timeoutMs: config.brainTimeoutMs, metrics })
        : createLocalBrain({ database, clock, metrics }));

    const policy: PolicyEngine = config.opaUrl ? createOpaHttpPolicy({ url: config.opaUrl }) : await createOpaWasmPolicy({});
    const toolRunner = createToolRunner({ policy, clock, recallFor: (scope) => (query) => theBrain.recall(scope, query), metrics });
    const modelFactory = models ?? createModelFactory({ modelsDir: config.modelsDir, openaiBaseUrl: config.openaiBaseUrl, openaiApiKey: config.openaiApiKey, anthropicApiKey: config.anthropicApiKey, contextTokens: config.contextTokens });
    if ('closeAll' in modelFactory) closers.push(() => (modelFactory as { closeAll(): Promise<void> }).closeAll());

    const ctx: AppContext = {
      database,
      brain: theBrain,
      models: modelFactory,
      toolRunner,
      clock,
      health,
      metrics,
      logger: log,
      settings: {
        defaultModel: config.model,
        rlm: config.rlm,
        turnTokenBudget: config.turnTokenBudget,
        turnDeadlineMs: config.turnDeadlineMs,
        contextTokens: config.contextTokens,
        maxOutputTokens: config.maxOutputTokens,
        brainTimeoutMs: config.brainTimeoutMs,
      },
    };

    // Turns a dead process left running. On the embedded database nobody else can be running them;
    // on PostgreSQL other servers may be, but no live turn outlasts its deadline (the loop aborts
    // there), so a running turn older than deadline + grace belongs to a process that died.
    const sweep = async (olderThanMs: number) => {
      const recovered = await recoverInterruptedTurns(ctx, { olderThanMs });
      if (recovered > 0) log.warn({ recovered }, 'marked turns left running by a stopped process as interrupted');
    };
    const staleAfterMs = config.turnDeadlineMs + 10_000;
    await sweep(database.driver === 'pglite' && !given ? -1 : staleAfterMs);
    const sweeper = setInterval(() => void sweep(staleAfterMs).catch((err) => log.warn({ err }, 'interrupted-turn sweep failed')), Math.min(60_000, staleAfterMs));
    sweeper.unref();
    closers.unshift(async () => clearInterval(sweeper));

    const app = createHttpApp({
      ctx,
      adminToken: config.adminToken,
      metricsRegistry: metrics.registry,
      readiness: { database: () => database.ping() },
      mount: (root) => {
        if (!config.brainUrl) root.route('/', createBrainRoutes({ brain: theBrain }));
        root.route('/', createLearningRoutes({ database, clock }));
        root.route('/', createReplayRoutes({ database }));
        root.route('/', createConversationListRoutes({ database }));
        root.route('/', createCatalogueRoutes({ catalogue: () => readCatalogue({ defaultModel: config.model, localModels: listLocalModels(config.modelsDir), models: modelFactory, allowScriptedModels: scriptedModelsAllowed(config) }) }));
        mountStudio(root, { apiKeyFile: embeddedApiKeyFile(config) });
      },
    });

    return {
      config,
      ctx,
      app,
      database,
      metrics,
      logger: log,
      listen: ({ port = config.port, host = config.host } = {}) =>
        new Promise((resolve, reject) => {
          const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => resolve({ server, port: info.port }));
          server.once('error', reject);
          closers.unshift(
            () =>
              new Promise<void>((done) => {
                server.close(() => done());
                (server as { closeAllConnections?: () => void }).closeAllConnections?.();
              }),
          );
        }),
      close: async () => {
        for (const close of closers) await close().catch((err) => log.warn({ err }, 'shutdown step failed'));
      },
    };
  } catch (err) {
    if (!given) await database.close().catch(() => undefined);
    throw err;
  }
}

/** On the embedded default, where `soma serve` writes the "default" tenant's key (shown by the Studio's sign-in page). */
function embeddedApiKeyFile(config: Config): string | undefined {
  if (config.databaseUrl) return undefined;
  const relative = path.relative(process.cwd(), path.join(config.dataDir, 'api-key'));
  return relative.startsWith('..') || path.isAbsolute(relative) ? 'api-key in the data folder (SOMA_DATA_DIR)' : `./${relative}`;
}

/** `SOMA_ALLOW_SCRIPTED_MODELS` (SPEC §13.1): from the configuration once it carries the flag, else the environment. */
function scriptedModelsAllowed(config: Config): boolean {
  const flag = (config as Partial<{ allowScriptedModels: boolean }>).allowScriptedModels;
  return flag ?? process.env.SOMA_ALLOW_SCRIPTED_MODELS === 'true';
}
