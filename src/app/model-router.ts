import type { ChatModel, ModelCapabilities } from '../ports/chat-model.js';
import { SomaError } from '../shared/errors.js';

/** Creates (and caches) models by spec; knows which specs are usable in this process. */
export interface ModelFactory {
  /** The model for a spec such as `openai:gpt-4o-mini`; throws when it cannot be built. */
  get(spec: string): ChatModel;
  /** Whether the spec can be served here (credentials, files present), and what it can do. */
  describe(spec: string): { available: boolean; capabilities: ModelCapabilities; reason?: string };
}

export interface RouteModelInput {
  capsuleModel: string | null;
  allowedModels: readonly string[];
  defaultModel: string;
  /** What the turn needs, e.g. `{tools: true}` when the capsule has tools. */
  required: Partial<ModelCapabilities>;
  factory: ModelFactory;
}

/**
 * The model router (SPEC §3): the capsule's model; else the first of `allowed_models` that is
 * available and has the required capabilities; else `SOMA_MODEL`. A clear error when none fits.
 */
export function routeModel({ capsuleModel, allowedModels, defaultModel, required, factory }: RouteModelInput): ChatModel {
  if (capsuleModel) {
    const info = factory.describe(capsuleModel);
    if (!info.available) throw new SomaError('NO_MODEL_AVAILABLE', `the capsule's model ${capsuleModel} is not available: ${info.reason ?? 'unknown reason'}`);
    return factory.get(capsuleModel);
  }
  const rejected: string[] = [];
  for (const spec of allowedModels) {
    const info = factory.describe(spec);
    const missing = (Object.keys(required) as (keyof ModelCapabilities)[]).filter((k) => required[k] && !info.capabilities[k]);
    if (info.available && missing.length === 0) return factory.get(spec);
    rejected.push(`${spec} (${info.available ? `lacks ${missing.join(', ')}` : info.reason ?? 'unavailable'})`);
  }
  if (allowedModels.length > 0) {
    throw new SomaError('NO_MODEL_AVAILABLE', `no allowed model fits this capsule: ${rejected.join('; ')}`);
  }
  const info = factory.describe(defaultModel);
  if (!info.available) throw new SomaError('NO_MODEL_AVAILABLE', `the default model ${defaultModel} is not available: ${info.reason ?? 'unknown reason'}`);
  return factory.get(defaultModel);
}
