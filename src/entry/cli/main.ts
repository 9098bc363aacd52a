import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { loadConfig, ConfigError, type Config } from '../../config.js';
import { isSomaError } from '../../shared/errors.js';
import { packageRoot } from '../../shared/package-root.js';
import type { Soma } from '../../main.js';

/** Prints one clear line and exits 1 (configuration and start-up failures are not stack traces). */
function fail(message: string): never {
  process.stderr.write(`soma: ${message}\n`);
  process.exit(1);
}

function config(overrides: Record<string, string | undefined> = {}): Config {
  try {
    return loadConfig({ ...process.env, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

async function guarded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    if (isSomaError(err)) fail(`${err.code}: ${err.message}`);
    throw err;
  }
}

/** On SIGINT or SIGTERM: run `stop` (finish in-flight work, close resources), then exit 0. */
function onShutdown(stop: () => Promise<void>): void {
  const shutdown = async () => {
    await stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

/** The API key file of the embedded set-up (`<SOMA_DATA_DIR>/api-key`), read by `soma chat`. */
const apiKeyFile = (cfg: Config) => path.join(cfg.dataDir, 'api-key');

const program = new Command('soma').description('Soma — chat agents that think in iterations and learn from every one').showHelpAfterError();

program
  .command('serve')
  .description('serve the HTTP API (embedded PGlite, in-process brain and OPA, local model by default)')
  .option('-p, --port <port>', 'port (default $PORT or 8080)')
  .option('--host <host>', 'address to bind (default 0.0.0.0)')
  .option('--no-pull', 'do not download the default local model on first run')
  .action(async (options: { port?: string; host?: string; pull: boolean }) => {
    const cfg = config({ PORT: options.port, HOST: options.host });
    await guarded(async () => {
      const started = performance.now();
      // A new embedded database is created (in a child process) while the server's modules load.
      if (!cfg.databaseUrl) (await import('../../prestart.js')).prepareEmbeddedDatabase(cfg);
      if (options.pull && cfg.model.startsWith('local:')) await (await import('./model-commands.js')).ensureLocalModel(cfg, fail);
      const { createSoma } = await import('../../main.js');
      const soma = await createSoma({ config: cfg });
      const bootstrapKey = await bootstrapEmbeddedTenant(soma, cfg);
      const stopRelay = cfg.kafkaBrokers ? await soma.startRelay() : undefined;
      const { server, port } = await soma.listen();
      soma.logger.info({ port, driver: soma.database.driver, model: cfg.model, ready_ms: Math.round(performance.now() - started) }, `soma listening on http://localhost:${port}`);
      const { compactWhenIdle } = await import('./idle-heap.js');
      const stopCompacting = compactWhenIdle(server as import('node:http').Server, { onCompact: (info) => soma.logger.info(info, 'idle: heap compacted') });
      if (cfg.model.startsWith('local:') && cfg.modelPreload) {
        // SOMA_MODEL_PRELOAD=true: load the local model now, in the background (the API is ready before
        // the weights are). Otherwise it loads on the first turn that uses it, so an idle server holds no model.
        const model = soma.ctx.models.get(cfg.model);
        const loading = performance.now();
        void model.warmUp?.().then(
          () => soma.logger.info({ model: cfg.model, load_ms: Math.round(performance.now() - loading) }, 'local model loaded'),
          (err) => soma.logger.error({ err, model: cfg.model }, 'loading the local model failed'),
        );
      }
      if (bootstrapKey) process.stderr.write(`soma: created tenant "default"; its API key is in ${apiKeyFile(cfg)}\n`);
      onShutdown(async () => {
        soma.logger.info('shutting down');
        stopCompacting();
        // Drain first (running turns finish or close with their best draft), then relay what they wrote.
        await soma.drain();
        await stopRelay?.();
        await soma.close();
      });
    });
  });

program
  .command('migrate')
  .description('run the database migrations and exit')
  .action(async () => {
    const cfg = config();
    await guarded(async () => {
      const { openStore } = await import('../../main.js');
      const opened = await openStore(cfg);
      await opened.migrate();
      await opened.close();
      process.stdout.write(`migrations applied (${opened.driver})\n`);
    });
  });

program
  .command('chat')
  .description('interactive terminal chat with a running server (streams each turn)')
  .option('--url <url>', 'server URL', process.env.SOMA_URL ?? 'http://localhost:8080')
  .option('--api-key <key>', 'API key (default $SOMA_API_KEY, else <SOMA_DATA_DIR>/api-key)')
  .option('--capsule <id>', 'capsule to talk to (default: a new "terminal chat" capsule)')
  .option('--conversation <id>', 'continue this conversation')
  .option('-m, --message <text>', 'send one message, print the answer and exit')
  .action(async (options: { url: string; apiKey?: string; capsule?: string; conversation?: string; message?: string }) => {
    const cfg = config();
    const apiKey = options.apiKey ?? process.env.SOMA_API_KEY ?? (existsSync(apiKeyFile(cfg)) ? readFileSync(apiKeyFile(cfg), 'utf8').trim() : undefined);
    if (!apiKey) fail('no API key: pass --api-key, set SOMA_API_KEY, or start `soma serve` once with the embedded database');
    const { runChat } = await import('./chat-command.js');
    try {
      await runChat({ url: options.url, apiKey, stateFile: path.join(cfg.dataDir, 'chat.json'), capsuleId: options.capsule, conversationId: options.conversation, message: options.message });
    } catch (err) {
      fail((err as Error).message);
    }
  });

const model = program.command('model').description('local models');
model
  .command('pull')
  .description('download the default local model (SmolLM2-135M-Instruct Q4_1), or a known one by name, with a progress bar and checksum check; prints its path')
  .argument('[name]', 'a known model (smollm2-135m-instruct-q4_1, gemma-3-270m-q4_k_m)')
  .option('--source <path>', 'use this GGUF file instead of downloading')
  .action(async (name: string | undefined, options: { source?: string }) => {
    const cfg = config();
    await guarded(async () => {
      const { pullWithProgress } = await import('./model-commands.js');
      const file = await pullWithProgress(cfg, { source: options.source, name });
      process.stdout.write(`${file}\n`);
    });
  });

program
  .command('eval')
  .description('run a dataset (JSONL) through the turn path under configurations side by side; prints a table, then a JSON line')
  .argument('<dataset>', 'a .jsonl file: {"input","expected","match":"exact|contains|regex|number|judge","tags"?,"memories"?} per line')
  .option('--compare <configurations>', 'comma-separated: single-shot, rlm, rlm:threshold=0.8:max_iterations=3 …', 'single-shot,rlm')
  .option('--url <url>', 'run it on this server (POST /v1/evals) instead of in this process')
  .option('--api-key <key>', 'API key (default $SOMA_API_KEY, else <SOMA_DATA_DIR>/api-key)')
  .option('--fresh', 'start over instead of resuming an unfinished run of the same dataset and configurations')
  .option('--limit <n>', 'only the first n items')
  .option('--min-accuracy <x>', 'exit 1 when a configuration scores below this accuracy')
  .action(async (file: string, options: import('./eval-command.js').EvalCommandOptions) => {
    const cfg = config();
    await guarded(async () => {
      const { runEvalCommand } = await import('./eval-command.js');
      try {
        process.exitCode = await runEvalCommand(cfg, file, options);
      } catch (err) {
        if (isSomaError(err)) throw err;
        fail((err as Error).message);
      }
    });
  });

const admin = program.command('admin').description('administration on the configured database');
admin
  .command('tenant')
  .description('tenants')
  .command('create')
  .description('create a tenant and print its id and first API key')
  .requiredOption('--name <name>', 'tenant name')
  .action(async (options: { name: string }) => {
    const cfg = config();
    await guarded(async () => {
      const { openStore } = await import('../../main.js');
      const { createTenant } = await import('../../app/tenancy.js');
      const opened = await openStore(cfg);
      await opened.migrate();
      const tenant = await createTenant(opened.ctx, { name: options.name });
      await opened.close();
      process.stdout.write(`${JSON.stringify(tenant, null, 2)}\n`);
    });
  });

program
  .command('brain')
  .description('the learning engine')
  .command('serve')
  .description('serve the brain routes alone (/v1/learning/*, /v1/memory/*)')
  .option('-p, --port <port>', 'port (default $PORT or 8081)')
  .action(async (options: { port?: string }) => {
    const cfg = config({ PORT: options.port ?? process.env.PORT ?? '8081' });
    await guarded(async () => {
      const { createBrainServer } = await import('../../main.js');
      const { pino } = await import('pino');
      const logger = pino({ level: cfg.logLevel, base: { service: 'soma-brain' } });
      const brain = await createBrainServer({ config: cfg });
      const { port } = await brain.listen();
      logger.info({ port }, `soma brain listening on http://localhost:${port}`);
      onShutdown(() => brain.close());
    });
  });

program
  .command('relay')
  .description('relay the outbox to Kafka (KAFKA_BROKERS) until stopped')
  .action(async () => {
    const cfg = config();
    if (!cfg.kafkaBrokers) fail('KAFKA_BROKERS must be set for the relay');
    await guarded(async () => {
      const { createSoma } = await import('../../main.js');
      const soma = await createSoma({ config: cfg });
      const stop = await soma.startRelay();
      onShutdown(async () => {
        await stop();
        await soma.close();
      });
    });
  });

program
  .command('replay')
  .description('re-run recorded turns and compare every iteration (exit 1 on any difference)')
  .argument('[turn_id]', 'the turn to replay')
  .option('--conversation <id>', 'replay every turn of a conversation')
  .option('--since <time>', 'replay every turn started since this ISO time')
  .option('--with <key=value...>', 'counterfactual: threshold=, max_iterations=, min_iterations=, or a learning constant (e.g. lr_base=0.1); writes nothing')
  .option('--json', 'print the report as JSON')
  .action(async (turnId: string | undefined, options: { conversation?: string; since?: string; with?: string[]; json?: boolean }) => {
    const cfg = config();
    await guarded(async () => {
      const { runReplayCommand } = await import('./replay-command.js');
      process.exitCode = await runReplayCommand(cfg, { turnId, ...options });
    });
  });

program.addOption(new Option('-v, --version').hideHelp()).on('option:version', () => {
  process.stdout.write(`${JSON.parse(readFileSync(path.join(packageRoot(import.meta.url), 'package.json'), 'utf8')).version}\n`);
  process.exit(0);
});

/** On an empty embedded database, creates tenant "default" and stores its key for `soma chat`. */
async function bootstrapEmbeddedTenant(soma: Soma, cfg: Config): Promise<boolean> {
  if (soma.database.driver !== 'pglite') return false;
  const { createFirstTenant } = await import('../../app/tenancy.js');
  const tenant = await createFirstTenant(soma.ctx, { name: 'default' });
  if (!tenant) return false;
  mkdirSync(cfg.dataDir, { recursive: true });
  writeFileSync(apiKeyFile(cfg), `${tenant.api_key}\n`, { mode: 0o600 });
  return true;
}

await program.parseAsync(process.argv);
