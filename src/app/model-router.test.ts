import { describe, expect, it } from 'vitest';
import type { ChatModel, ModelCapabilities } from '../ports/chat-model.js';
import type { ModelFactory } from '../ports/model-factory.js';
import { routeModel as route, type RouteModelInput } from './model-router.js';

/** The chosen model, or the refusal's message thrown (so `toThrow` reads the reason). */
function routeModel(input: RouteModelInput): ChatModel {
  const result = route(input);
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

const caps = (tools: boolean): ModelCapabilities => ({ tools, logprobs: true, seed: true, streaming: true });

function factory(available: Record<string, { tools: boolean } | undefined>): ModelFactory {
  return {
    describe: (spec) => (available[spec] ? { available: true, capabilities: caps(available[spec]!.tools) } : { available: false, capabilities: caps(true), reason: 'not configured' }),
    get: (spec) => ({ id: spec }) as ChatModel,
  };
}

describe('routeModel', () => {
  const f = factory({ 'openai:a': { tools: false }, 'openai:b': { tools: true }, 'local:x': { tools: true } });
  it("uses the capsule's model first", () => {
    expect(routeModel({ capsuleModel: 'openai:a', allowedModels: ['openai:b'], defaultModel: 'local:x', required: {}, factory: f }).id).toBe('openai:a');
  });
  it('else the first allowed model that has the required capabilities', () => {
    expect(routeModel({ capsuleModel: null, allowedModels: ['openai:a', 'openai:b'], defaultModel: 'local:x', required: { tools: true }, factory: f }).id).toBe('openai:b');
    expect(routeModel({ capsuleModel: null, allowedModels: ['openai:a', 'openai:b'], defaultModel: 'local:x', required: {}, factory: f }).id).toBe('openai:a');
  });
  it('else the default model', () => {
    expect(routeModel({ capsuleModel: null, allowedModels: [], defaultModel: 'local:x', required: { tools: true }, factory: f }).id).toBe('local:x');
  });
  it('fails clearly when nothing fits', () => {
    expect(() => routeModel({ capsuleModel: null, allowedModels: ['openai:a', 'anthropic:z'], defaultModel: 'local:x', required: { tools: true }, factory: f })).toThrow(
      /no allowed model fits this capsule: openai:a \(lacks tools\); anthropic:z \(not configured\)/,
    );
    expect(() => routeModel({ capsuleModel: 'anthropic:z', allowedModels: [], defaultModel: 'local:x', required: {}, factory: f })).toThrow(/NO_MODEL_AVAILABLE: the capsule's model anthropic:z is not available/);
  });
});
