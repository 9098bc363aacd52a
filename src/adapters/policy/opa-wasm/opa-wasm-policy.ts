import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import type { PolicyDecision, PolicyEngine, PolicyInput } from '../../../ports/tools.js';

export interface OpaWasmPolicyOptions {
  /** Compiled policy (`opa build -t wasm`); default: the shipped `policy/soma/tools.wasm`. */
  wasmPath?: string;
}

const allowEntrypoint = 'soma/tools/allow';
const reasonEntrypoint = 'soma/tools/reason';

/** The shipped compiled policy, found by walking up from this file (works from src/ and dist/). */
export function defaultPolicyWasmPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'policy', 'soma', 'tools.wasm');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('policy/soma/tools.wasm not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/**
 * Embedded OPA: evaluates the compiled `soma.tools` policy in process. Loading a missing or broken
 * WASM file throws (a start-up fault); a failed evaluation denies.
 */
export async function createOpaWasmPolicy({ wasmPath = defaultPolicyWasmPath() }: OpaWasmPolicyOptions = {}): Promise<PolicyEngine> {
  const policy = await loadPolicy(await readFile(wasmPath));
  for (const entrypoint of [allowEntrypoint, reasonEntrypoint]) {
    if (!(entrypoint in (policy.entrypoints as Record<string, number>))) {
      throw new Error(`${wasmPath} has no entrypoint ${entrypoint}; rebuild it with scripts/build-policy.sh`);
    }
  }
  const name = 'opa-wasm';
  return {
    name,
    async decide(input: PolicyInput): Promise<PolicyDecision> {
      try {
        const allow = firstResult(policy.evaluate(input, allowEntrypoint)) === true;
        const reason = firstResult(policy.evaluate(input, reasonEntrypoint));
        return allow
          ? { allow, engine: name }
          : { allow, engine: name, reason: typeof reason === 'string' ? reason : 'denied by soma.tools policy' };
      } catch (error) {
        return { allow: false, engine: name, reason: `policy engine unavailable: ${(error as Error).message}` };
      }
    },
  };
}

function firstResult(resultSet: unknown): unknown {
  return Array.isArray(resultSet) ? (resultSet[0] as { result?: unknown } | undefined)?.result : undefined;
}
