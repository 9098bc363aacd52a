import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ModelFactory } from '../../ports/model-factory.js';
import type { ChatModel, ModelCapabilities } from '../../ports/chat-model.js';
import { SomaError } from '../../shared/errors.js';
import { countTiktokens } from './tiktoken-counter.js';
import { createScriptedModel } from './scripted/index.js';
import { defaultModelsDir as modelsDirFromEnv } from './pull/index.js';

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
}

/** The GGUF file of a `local:` spec: an existing path, else `<modelsDir>/<name>.gguf`. */
export function resolveLocalModelPath(spec: string, modelsDir?: string): string {
  const target = spec.replace(/^local:/, '');
  if (target.endsWith('.gguf') || target.includes('/')) return path.resolve(target);
  return path.join(defaultModelsDir(modelsDir), `${target}.gguf`);
}

const full: ModelCapabilities = { tools: true, logprobs: true, seed: true, streaming: true };

/** Builds models by spec (cached: one instance per spec for the process). */
export function createModelFactory(options: ModelFactoryOptions = {}): ModelFactory & { closeAll(): Promise<void> } {
  const cache = new Map<string, ChatModel>();

  const describe: ModelFactory['describe'] = (spec) => {
    const [provider] = spec.split(':');
    switch (provider) {
      case 'scripted': {
        const file = spec.slice('scripted:'.length);
        return existsSync(file) ? { available: true, capabilities: full } : { available: false, capabilities: full, reason: `script file ${file} not found` };
      }
      case 'local': {
        const file = resolveLocalModelPath(spec, options.modelsDir);
        return existsSync(file)
          ? { available: true, capabilities: full }
          : { available: false, capabilities: full, reason: `model file ${file} not found (run \`soma model pull\`)` };
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

  const build = (spec: string): ChatModel => {
    const [provider] = spec.split(':');
    switch (provider) {
      case 'scripted':
        return createScriptedModel({ script: spec.slice('scripted:'.length), id: spec });
      case 'local':
        return lazyModel(spec, describe(spec).capabilities, async () =>
          (await import('./llama-cpp/index.js')).createLlamaCppModel({ modelPath: resolveLocalModelPath(spec, options.modelsDir), contextSize: options.contextTokens }),
        );
      case 'openai':
        return lazyModel(spec, describe(spec).capabilities, async () => (await import('./ai-sdk/index.js')).createAiSdkModel({ spec, apiKey: options.openaiApiKey, logprobs: true }));
      case 'anthropic':
        return lazyModel(spec, describe(spec).capabilities, async () => (await import('./ai-sdk/index.js')).createAiSdkModel({ spec, apiKey: options.anthropicApiKey }));
      case 'openai-compatible':
        return lazyModel(spec, describe(spec).capabilities, async () =>
          (await import('./ai-sdk/index.js')).createAiSdkModel({ spec, baseURL: options.openaiBaseUrl, apiKey: options.openaiApiKey, logprobs: true }),
        );
      default:
        throw new SomaError('NO_MODEL_AVAILABLE', `unknown model provider in ${spec}`);
    }
  };

  return {
    describe,
    get(spec) {
      let model = cache.get(spec);
      if (!model) {
        model = build(spec);
        cache.set(spec, model);
      }
      return model;
    },
    async closeAll() {
      await Promise.all([...cache.values()].map((m) => m.close?.()));
      cache.clear();
    },
  };
}

/**
 * A model whose adapter module loads on first use, so a process that never calls a provider does not
 * pay for its libraries (node-llama-cpp, the AI SDK). Until then tokens are counted with cl100k.
 */
function lazyModel(id: string, capabilities: ModelCapabilities, load: () => Promise<ChatModel>): ChatModel {
  let loaded: ChatModel | undefined;
  let loading: Promise<ChatModel> | undefined;
  const get = () => {
    loading ??= load().then((model) => (loaded = model));
    return loading;
  };
  return {
    id,
    capabilities,
    countTokens: (text) => (loaded ? loaded.countTokens(text) : countTiktokens(text, 'cl100k_base')),
    async *stream(options) {
      yield* (await get()).stream(options);
    },
    async warmUp() {
      await (await get()).warmUp?.();
    },
    async close() {
      if (loading) await (await loading).close?.();
    },
  };
}
