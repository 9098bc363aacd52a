import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createOpaWasmPolicy, defaultPolicyWasmPath } from '../../src/adapters/policy/index.js';
import { describePolicyEngineContract } from './policy-engine.contract.js';

describePolicyEngineContract('embedded OPA (WASM)', async () => ({ engine: await createOpaWasmPolicy() }));

describe('createOpaWasmPolicy', () => {
  it('loads the shipped policy by default', () => {
    expect(defaultPolicyWasmPath()).toMatch(/policy\/soma\/tools\.wasm$/);
  });

  it('refuses a file that is not a compiled policy', async () => {
    await expect(createOpaWasmPolicy({ wasmPath: new URL(import.meta.url).pathname })).rejects.toThrow();
  });

  it('the shipped file is a WebAssembly module', async () => {
    const bytes = await readFile(defaultPolicyWasmPath());
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('\0asm');
  });
});
