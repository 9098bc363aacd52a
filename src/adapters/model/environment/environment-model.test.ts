import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allocateLanes, buildContext, type LaneCandidate } from '../../../core/context/index.js';
import { defaultLearnedState } from '../../../core/learning/index.js';
import type { LlmOutput, ModelCallOptions, ModelStreamPart } from '../../../ports/chat-model.js';
import { isSomaError } from '../../../shared/errors.js';
import { createEnvironmentModel } from './environment-model.js';

const folder = mkdtempSync(join(tmpdir(), 'soma-environment-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function environmentFile(content: unknown): string {
  const file = join(folder, `world-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const world = { facts: [{ topic: 'wifi password', answer: 'heron-42' }, { topic: 'parking level', answer: 'level 3' }] };

/** The prompt the turn path sends: the real context builder with these memories in its lane. */
function prompt(userMessage: string, memories: LaneCandidate[]): ModelCallOptions {
  const built = buildContext({
    systemPrompt: 'You are the office assistant.',
    history: [],
    userMessage,
    memories,
    laneWeights: defaultLearnedState().weights,
    budgets: allocateLanes({ totalTokens: 4000, degraded: false }),
    countTokens: (text) => text.split(/\s+/).length,
    steps: [],
    iteration: 0,
  });
  return { messages: built.messages, seed: 7, turn: { userMessage } } as ModelCallOptions;
}

async function answer(file: string, options: ModelCallOptions): Promise<LlmOutput> {
  const parts: ModelStreamPart[] = [];
  for await (const part of createEnvironmentModel({ file }).stream(options)) parts.push(part);
  const finish = parts.find((part) => part.type === 'finish');
  if (!finish || finish.type !== 'finish') throw new Error('no finish part');
  return finish.output;
}

describe('environment model', () => {
  it('answers correctly, with its "correct" confidence, only when the fact is in its memory lane', async () => {
    const file = environmentFile(world);
    const withFact = await answer(file, prompt('What is the wifi password?', [{ key: 'wifi', content: 'The office wifi password is heron-42', similarity: 1 }]));
    expect(withFact.text).toContain('heron-42');
    expect(withFact.verbalConfidence).toBe(0.9);

    // The same question without the fact in context: it does not know, and says so with low confidence.
    const without = await answer(file, prompt('What is the wifi password?', [{ key: 'parking', content: 'Parking is on level 3', similarity: 1 }]));
    expect(without.text).not.toContain('heron-42');
    expect(without.text).toMatch(/do not know the wifi password/);
    expect(without.verbalConfidence).toBe(0.2);

    // The fact only in the user's question does not count: the model reads its memory lane.
    const echoed = await answer(file, prompt('Is the wifi password heron-42?', []));
    expect(echoed.verbalConfidence).toBe(0.2);
  });

  it('answers from the first memory about the topic: a stale one gives the wrong answer with the "wrong" confidence', async () => {
    const file = environmentFile({ ...world, confidence: { correct: 0.95, wrong: 0.4, missing: 0.1 } });
    const stale = { key: 'wifi-2025', content: 'The office wifi password is osprey-7', similarity: 1, importance: 1 };
    const current = { key: 'wifi', content: 'The office wifi password is heron-42', similarity: 0.5, importance: 0 };
    const staleFirst = await answer(file, prompt('what is the WIFI PASSWORD', [stale, current]));
    expect(staleFirst.text).toContain('osprey-7');
    expect(staleFirst.text).not.toContain('heron-42');
    expect(staleFirst.verbalConfidence).toBe(0.4);

    const currentFirst = await answer(file, prompt('what is the WIFI PASSWORD', [{ ...current, similarity: 1, importance: 1 }, { ...stale, similarity: 0.5, importance: 0 }]));
    expect(currentFirst.text).toContain('heron-42');
    expect(currentFirst.verbalConfidence).toBe(0.95);
  });

  it('reads its file on every call, so a changed world changes the verdict of the same prompt', async () => {
    const file = environmentFile(world);
    const call = prompt('What is the wifi password?', [{ key: 'wifi', content: 'The office wifi password is heron-42', similarity: 1 }]);
    expect((await answer(file, call)).verbalConfidence).toBe(0.9);
    writeFileSync(file, JSON.stringify({ facts: [{ topic: 'wifi password', answer: 'falcon-77' }] }));
    const after = await answer(file, call);
    expect(after.verbalConfidence).toBe(0.5);
    expect(after.text).toContain('heron-42');
  });

  it('a question about no known topic gets a non-answer with the "missing" confidence', async () => {
    const output = await answer(environmentFile(world), prompt('Who won the match?', [{ key: 'wifi', content: 'The office wifi password is heron-42', similarity: 1 }]));
    expect(output.text).toBe('I cannot tell.');
    expect(output.verbalConfidence).toBe(0.2);
  });

  it('in a control world its confidence ignores the context (a hash of the question and seed)', async () => {
    const file = environmentFile({ ...world, control: true });
    const withFact = await answer(file, prompt('What is the wifi password?', [{ key: 'wifi', content: 'The office wifi password is heron-42', similarity: 1 }]));
    const without = await answer(file, prompt('What is the wifi password?', []));
    expect(withFact.verbalConfidence).toBe(without.verbalConfidence);
    expect(withFact.verbalConfidence).toBeGreaterThanOrEqual(0.2);
    expect(withFact.verbalConfidence).toBeLessThanOrEqual(0.8);
    const otherSeed = await answer(file, { ...prompt('What is the wifi password?', []), seed: 8 });
    expect(otherSeed.verbalConfidence).not.toBe(without.verbalConfidence);
  });

  it('fails with LLM_FAILED, without quoting the file, when the environment file is missing or invalid', async () => {
    const failure = async (file: string) => {
      try {
        await answer(file, prompt('What is the wifi password?', []));
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const missing = await failure(join(folder, 'absent.json'));
    expect(isSomaError(missing) && missing.code).toBe('LLM_FAILED');
    const invalid = await failure(environmentFile('{"facts":[{"topic":"secret-topic-x"}]}'));
    expect(isSomaError(invalid) && invalid.code).toBe('LLM_FAILED');
    expect((invalid as Error).message).toMatch(/facts\.0\.answer/);
    expect((invalid as Error).message).not.toContain('secret-topic-x');
  });
});
