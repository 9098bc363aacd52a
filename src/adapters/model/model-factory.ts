import { existsSync } from 'node:fs';
import path from 'node:path';
import { LRUCache } from 'lru-cache';
import { checkCapsuleModel, localModelName } from '../../core/admission/index.js';
import type { ModelFactory } from '../../ports/model-factory.js';
import type { ChatModel, ModelCapabilities } from '../../ports/chat-model.js';
import { SomaError } from '../../shared/errors.js';
import { countTiktokens } from './tiktoken-counter.js';
import { createEnvironmentModel } from './environment/index.js';
import { createScriptedModel } from './scripted/index.js';
import { defaultModelsDir as modelsDirFromEnv } from './pull/index.js';
import { withRetries, type RetryPolicy } from './retrying-model.js';

/** Cache folder of local models: the configured one, else `$SOMA_MODELS_DIR`, else `$XDG_CACHE_HOME/soma/models`. */
export function defaultModelsDir(modelsDir?: string): string {
  return modelsDir ? path.resolve(modelsDir) : modelsDirFromEnv();
}

export interface ModelFactoryOptions {
  modelsDir?: string;
  openaiBaseUrl?: string;
  openaiApiKey?: string;
  anthropicApiKey?: string;
  /** Context window for local models. */
  contextTokens?: number;
  /**
   * Specs the operator configured (`SOMA_MODEL`): accepted in any form, a file path included. Every
   * other spec is tenant input and must pass the capsule rules (models by name, never by path).
   */
  operatorModels?: readonly string[];
  /** `SOMA_ALLOW_SCRIPTED_MODELS`: `scripted:` specs accepted from capsules. */
  allowScripted?: boolean;
  /** Local models kept loaded at once (`SOMA_LOCAL_MODEL_CACHE`); the least recently used is unloaded. */
  localModelCache?: number;
  /** Other models (remote, scripted) kept at once. */
  modelCache?: number;
  /** Loads a local GGUF file (default: node-llama-cpp). */
  loadLocalModel?: (options: { modelPath: string; contextSize?: number }) => Promise<ChatModel>;
  /** How local models call tools (`SOMA_LOCAL_TOOL_PROTOCOL`). */
  localToolProtocol?: 'decision' | 'native';
  /** The retry policy every model is wrapped in (see {@link withRetries}). */
  retry?: RetryPolicy;
}

/**
 * The GGUF file of a `local:` spec. A catalogue name (`local:<name>`) is `<modelsDir>/<name>.gguf`;
 * a path (only ever from the operator's `SOMA_MODEL`) is that path.
 */
export function resolveLocalModelPath(spec: string, modelsDir?: string): string {
  const name = localModelName(spec);
  if (name !== undefined) return path.join(defaultModelsDir(modelsDir), `${name}.gguf`);
  return path.resolve(spec.replace(/^local:/, ''));
}

const full: ModelCapabilities = { tools: true, logprobs: true, seed: true, streaming: true };

/**
 * Builds models by spec, caching them: local models in an LRU of `localModelCache` (evicted ones are
 * unloaded once no turn streams from them), other models in an LRU of `modelCache`. A spec that is
 * not the operator's is checked against the capsule rules at `describe` and `get` time too, so a
 * capsule stored before the rules cannot load a file by path.
 */
export function createModelFactory(options: ModelFactoryOptions = {}): ModelFactory & { closeAll(): Promise<void> } {
  const { operatorModels = [], allowScripted = false, localModelCache = 2, modelCache = 64 } = options;
  const trusted = new Set(operatorModels);
  const retire = (model: ChatModel) => void (model as RetirableModel).retire?.();
  const local = new LRUCache<string, ChatModel>({ max: localModelCache, dispose: retire });
  const others = new LRUCache<string, ChatModel>({ max: modelCache, dispose: retire });
  const loadLocal =
    options.loadLocalModel ?? (async ({ modelPath, contextSize }) => (await import('./llama-cpp/index.js')).createLlamaCppModel({ modelPath, contextSize, toolProtocol: options.localToolProtocol }));

  /** Why a tenant's spec is refused, or undefined when it is allowed. */
  const refusal = (spec: string): string | undefined => {
    if (trusted.has(spec)) return undefined;
    const checked = checkCapsuleModel({ spec, allowScripted });
    return checked.ok ? undefined : checked.error.message;
  };

  const describe: ModelFactory['describe'] = (spec) => {
    const refused = refusal(spec);
    if (refused !== undefined) return { available: false, capabilities: full, reason: refused };
    const [provider] = spec.split(':');
    switch (provider) {
      case 'scripted':
      case 'environment':
        // Never a file check here: whether a path exists is not for a tenant to learn.
        return { available: true, capabilities: full };
      case 'local': {
        const name = localModelName(spec);
        return existsSync(resolveLocalModelPath(spec, options.modelsDir))
          ? { available: true, capabilities: full }
          : { available: false, capabilities: full, reason: `the local model ${name ?? 'file'} is not installed (run \`soma model pull\`)` };
      }
      case 'openai':
        return options.openaiApiKey || process.env.OPENAI_API_KEY
          ? { available: true, capabilities: full }
          : { available: false, capabilities: full, reason: 'OPENAI_API_KEY is not set' };
      case 'anthropic':
        return options.anthropicApiKey || process.env.ANTHROPIC_API_KEY
          ? { available: true, capabilities: { ...full, logprobs: false, seed: false } }
          : { available: false, capabilities: full, reason: 'ANTHROPIC_API_KEY is not set' };
      case 'openai-compatible':
        return options.openaiBaseUrl
          ? { available: true, capabilities: full }
          : { available: false, capabilities: full, reason: 'OPENAI_BASE_URL is not set' };
      default:
        return { available: false, capabilities: full, reason: `unknown provider ${provider}` };
    }
  };

  // Adapters that could retry on their own (the AI SDK one) are built with 0 retries: one policy for all.
  const noAdapterRetries = { retry: { maxRetries: 0 } };

  const build = (spec: string): ChatModel => {
    const [provider] = spec.split(':');
    switch (provider) {
      case 'scripted':
        return createScriptedModel({ script: spec.slice('scripted:'.length), id: spec });
      case 'environment':
        return createEnvironmentModel({ file: spec.slice('environment:'.length), id: spec });
      case 'local':
        return lazyModel(spec, describe(spec).capabilities, () => loadLocal({ modelPath: resolveLocalModelPath(spec, options.modelsDir), contextSize: options.contextTokens }));
      case 'openai':
        return lazyModel(spec, describe(spec).capabilities, async () => (await import('./ai-sdk/index.js')).createAiSdkModel({ spec, apiKey: options.openaiApiKey, logprobs: true, ...noAdapterRetries }));
      case 'anthropic':
        return lazyModel(spec, describe(spec).capabilities, async () => (await import('./ai-sdk/index.js')).createAiSdkModel({ spec, apiKey: options.anthropicApiKey, ...noAdapterRetries }));
      case 'openai-compatible':
        return lazyModel(spec, describe(spec).capabilities, async () =>
          (await import('./ai-sdk/index.js')).createAiSdkModel({ spec, baseURL: options.openaiBaseUrl, apiKey: options.openaiApiKey, logprobs: true, ...noAdapterRetries }),
        );
      default:
        throw new SomaError('NO_MODEL_AVAILABLE', `unknown model provider in ${spec}`);
    }
  };

  return {
    describe,
    get(spec) {
      const refused = refusal(spec);
      if (refused !== undefined) throw new SomaError('MODEL_NOT_ALLOWED', refused);
      const cache = spec.startsWith('local:') ? local : others;
      let model = cache.get(spec);
      if (!model) {
        model = withRetries(build(spec), options.retry);
        cache.set(spec, model);
      }
      return model;
    },
    async closeAll() {
      const all = [...local.values(), ...others.values()];
      local.clear();
      others.clear();
      await Promise.all(all.map((m) => (m as RetirableModel).closed ?? m.close?.()));
    },
  };
}

/** A cached model that can be unloaded once no turn is streaming from it. */
interface RetirableModel extends ChatModel {
  retire?(): void;
  /** Set once retired: resolves when the model is closed. */
  closed?: Promise<void>;
}

/**
 * A model whose adapter module loads on first use, so a process that never calls a provider does not
 * pay for its libraries (node-llama-cpp, the AI SDK). Until then tokens are counted with cl100k.
 * `retire()` (eviction from the cache) closes it as soon as no stream is running on it.
 */
function lazyModel(id: string, capabilities: ModelCapabilities, load: () => Promise<ChatModel>): RetirableModel {
  let loaded: ChatModel | undefined;
  let loading: Promise<ChatModel> | undefined;
  let streams = 0;
  let retired = false;
  let closedNow: (() => void) | undefined;
  const get = () => {
    loading ??= load().then((model) => (loaded = model));
    return loading;
  };
  // Unloads; a retired model that a turn still holds loads again if it streams later.
  const unload = async () => {
    const current = loading;
    loading = undefined;
    loaded = undefined;
    if (current) await (await current.catch(() => undefined))?.close?.();
  };
  const model: RetirableModel = {
    id,
    capabilities,
    countTokens: (text) => (loaded ? loaded.countTokens(text) : countTiktokens(text, 'cl100k_base')),
    async *stream(options) {
      streams += 1;
      try {
        yield* (await get()).stream(options);
      } finally {
        streams -= 1;
        if (retired && streams === 0) void unload().then(closedNow, closedNow);
      }
    },
    async warmUp() {
      await (await get()).warmUp?.();
    },
    close: unload,
    retire() {
      if (retired) return;
      retired = true;
      model.closed = new Promise<void>((resolve) => {
        closedNow = resolve;
        if (streams === 0) void unload().then(resolve, resolve);
      });
    },
  };
  return model;
}
