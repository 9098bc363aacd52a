import { mkdirSync, mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChatModel, ModelCallOptions } from '../../ports/chat-model.js';
import { createModelFactory, resolveLocalModelPath } from './model-factory.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-models-'));
const modelsDir = path.join(dir, 'models');
mkdirSync(modelsDir);
for (const name of ['a', 'b', 'c']) writeFileSync(path.join(modelsDir, `${name}.gguf`), 'GGUF');
const script = path.join(dir, 'script.json');
writeFileSync(script, JSON.stringify({ turns: [{ iterations: [{ text: 'scripted answer', final: true }] }] }));
const secretFile = path.join(dir, 'api-key');
writeFileSync(secretFile, 'root:x:0:0:soma_sk_live_secret');
const unreadable = path.join(dir, 'unreadable.json');
writeFileSync(unreadable, '{"turns": []}');
chmodSync(unreadable, 0o000);

/** A stand-in for llama.cpp that records loads and unloads (the cache is what is under test). */
function recordingLoader() {
  const events: string[] = [];
  const release: (() => void)[] = [];
  const loadLocalModel = async ({ modelPath }: { modelPath: string }): Promise<ChatModel> => {
    const name = path.basename(modelPath, '.gguf');
    events.push(`load ${name}`);
    return {
      id: name,
      capabilities: { tools: true, logprobs: true, seed: true, streaming: true },
      countTokens: (text) => text.length,
      async *stream() {
        await new Promise<void>((resolve) => release.push(resolve));
        yield { type: 'text-delta', text: name };
      },
      close: async () => void events.push(`close ${name}`),
    };
  };
  return { events, release, loadLocalModel };
}

const call = (): ModelCallOptions => ({ messages: [{ role: 'user', content: 'hi' }] }) as ModelCallOptions;
async function drain(model: ChatModel) {
  const parts: unknown[] = [];
  for await (const part of model.stream(call())) parts.push(part);
  return parts;
}

describe('model factory: models by name, never by path', () => {
  it.each(['scripted:/etc/passwd', `scripted:${secretFile}`, 'scripted:/nonexistent', `scripted:${unreadable}`, 'local:/etc/hostname', 'local:../x', `local:${path.join(modelsDir, 'a.gguf')}`])(
    'a tenant spec %s is refused by describe and get, with one message that quotes nothing',
    (spec) => {
      const factory = createModelFactory({ modelsDir, operatorModels: [`scripted:${script}`] });
      const info = factory.describe(spec);
      expect(info.available).toBe(false);
      expect(() => factory.get(spec)).toThrow(expect.objectContaining({ code: 'MODEL_NOT_ALLOWED' }));
      expect(info.reason).not.toMatch(/root|secret|soma_sk|not found|exist|permission|EACCES|ENOENT/);
    },
  );

  it('scripted files from capsules (when allowed) fail alike whether missing, unreadable, not JSON or not a script', () => {
    const factory = createModelFactory({ modelsDir, allowScripted: true });
    const messages = ['/nonexistent/x.json', unreadable, secretFile, '/etc/passwd', '/etc/hostname'].map((file) => {
      expect(factory.describe(`scripted:${file}`).available).toBe(true);
      try {
        factory.get(`scripted:${file}`);
      } catch (error) {
        expect(error).toMatchObject({ code: 'NO_MODEL_AVAILABLE' });
        return (error as Error).message.replace(file, '<file>');
      }
      throw new Error('expected a failure');
    });
    expect(new Set(messages)).toEqual(new Set(['scripted model <file>: the file is missing, unreadable or not a valid script']));
    expect(factory.get(`scripted:${script}`).id).toBe(`scripted:${script}`);
  });

  it("the operator's own SOMA_MODEL may be any form, a path included", async () => {
    const loader = recordingLoader();
    const operatorPath = `local:${path.join(modelsDir, 'c.gguf')}`;
    const factory = createModelFactory({ modelsDir, operatorModels: [operatorPath, `scripted:${script}`], loadLocalModel: loader.loadLocalModel });
    expect(factory.describe(operatorPath)).toMatchObject({ available: true });
    expect(factory.get(`scripted:${script}`).id).toBe(`scripted:${script}`);
    const model = factory.get(operatorPath);
    const parts = drain(model);
    await expect.poll(() => loader.release.length).toBe(1);
    loader.release.shift()!();
    expect(await parts).toEqual([{ type: 'text-delta', text: 'c' }]);
    expect(resolveLocalModelPath(operatorPath, modelsDir)).toBe(path.join(modelsDir, 'c.gguf'));
  });

  it('local catalogue names resolve inside the models folder; a missing one says so by name only', () => {
    const factory = createModelFactory({ modelsDir });
    expect(factory.describe('local:a')).toMatchObject({ available: true });
    expect(factory.describe('local:a.gguf')).toMatchObject({ available: true });
    expect(factory.describe('local:zz')).toMatchObject({ available: false, reason: 'the local model zz is not installed (run `soma model pull`)' });
    expect(resolveLocalModelPath('local:a', modelsDir)).toBe(path.join(modelsDir, 'a.gguf'));
  });

  it('keeps at most SOMA_LOCAL_MODEL_CACHE local models, unloading the least recently used once idle', async () => {
    const loader = recordingLoader();
    const factory = createModelFactory({ modelsDir, localModelCache: 2, loadLocalModel: loader.loadLocalModel });
    const run = async (name: string) => {
      const parts = drain(factory.get(`local:${name}`));
      await expect.poll(() => loader.release.length).toBe(1);
      loader.release.shift()!();
      await parts;
    };
    await run('a');
    await run('b');
    await run('a'); // a is now the most recently used
    expect(loader.events).toEqual(['load a', 'load b']);
    await run('c'); // evicts b
    await expect.poll(() => loader.events).toEqual(['load a', 'load b', 'load c', 'close b']);

    // A model evicted while a turn streams from it is unloaded only when that stream ends.
    const streaming = drain(factory.get('local:a'));
    await expect.poll(() => loader.release.length).toBe(1);
    factory.get('local:b'); // evicts c (a was used last)
    factory.get('local:c'); // evicts a, which is streaming
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(loader.events.filter((e) => e === 'close a')).toEqual([]);
    loader.release.shift()!();
    expect(await streaming).toEqual([{ type: 'text-delta', text: 'a' }]);
    await expect.poll(() => loader.events.includes('close a')).toBe(true);

    await factory.closeAll();
  });
});
