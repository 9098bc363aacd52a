import type { ChatModel, ModelCapabilities } from '../ports/chat-model.js';
import type { ModelFactory } from '../ports/model-factory.js';
import type { Failure } from '../shared/errors.js';
import { ok, refuse, type Result } from '../shared/result.js';

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
 * available and has the required capabilities; else `SOMA_MODEL`. `NO_MODEL_AVAILABLE`, saying why,
 * when none fits.
 */
export function routeModel({ capsuleModel, allowedModels, defaultModel, required, factory }: RouteModelInput): Result<ChatModel, Failure> {
  if (capsuleModel) {
    const info = factory.describe(capsuleModel);
    if (!info.available) return refuse('NO_MODEL_AVAILABLE', `the capsule's model ${capsuleModel} is not available: ${info.reason ?? 'unknown reason'}`);
    return ok(factory.get(capsuleModel));
  }
  const rejected: string[] = [];
  for (const spec of allowedModels) {
    const info = factory.describe(spec);
    const missing = (Object.keys(required) as (keyof ModelCapabilities)[]).filter((k) => required[k] && !info.capabilities[k]);
    if (info.available && missing.length === 0) return ok(factory.get(spec));
    rejected.push(`${spec} (${info.available ? `lacks ${missing.join(', ')}` : info.reason ?? 'unavailable'})`);
  }
  if (allowedModels.length > 0) return refuse('NO_MODEL_AVAILABLE', `no allowed model fits this capsule: ${rejected.join('; ')}`);
  const info = factory.describe(defaultModel);
  if (!info.available) return refuse('NO_MODEL_AVAILABLE', `the default model ${defaultModel} is not available: ${info.reason ?? 'unknown reason'}`);
  return ok(factory.get(defaultModel));
}
