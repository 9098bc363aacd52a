import type { Failure } from '../../shared/errors.js';
import { ok, refuse as refuseWith, type Result } from '../../shared/result.js';

/** Remote providers a capsule may name with any model name (the name goes to the provider, never to a file). */
export const remoteModelProviders = ['openai', 'anthropic', 'openai-compatible'] as const;

/** A catalogue name of a local model: a file name stem inside `SOMA_MODELS_DIR`, never a path. */
const catalogueName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** A provider's model name: no whitespace or control characters; slashes allowed (`meta-llama/…`). */
const remoteModelName = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/;

/**
 * The catalogue name of a `local:<name>` spec (without a `.gguf` suffix), or undefined when the spec
 * is not a catalogue name (a path, `..`, a separator, anything else).
 */
export function localModelName(spec: string): string | undefined {
  if (!spec.startsWith('local:')) return undefined;
  const name = spec.slice('local:'.length).replace(/\.gguf$/i, '');
  if (!catalogueName.test(name) || name.includes('..')) return undefined;
  return name;
}

export interface CheckCapsuleModelOptions {
  /** The spec as the capsule gives it. */
  spec: string;
  /** Field named in the message, e.g. `model` or `allowed_models[1]`. */
  field?: string;
  /** `SOMA_ALLOW_SCRIPTED_MODELS`: `scripted:<file>` and `environment:<file>` accepted from capsules (tests, benchmarks). */
  allowScripted?: boolean;
}

/**
 * Checks a model spec that comes from a capsule (tenant input, SPEC §13.1): remote providers with a
 * plain model name, local models by catalogue name only, `scripted:` only when the operator allows
 * it. Refuses with `MODEL_NOT_ALLOWED`; the message names the field and the rule, never the value
 * (it may be a path) and never anything about a file.
 */
export function checkCapsuleModel({ spec, field = 'model', allowScripted = false }: CheckCapsuleModelOptions): Result<void, Failure> {
  const refuse = (rule: string) => refuseWith('MODEL_NOT_ALLOWED', `${field}: ${rule}`, { field });
  const colon = spec.indexOf(':');
  const provider = colon > 0 ? spec.slice(0, colon) : '';
  const name = spec.slice(colon + 1);
  if ((remoteModelProviders as readonly string[]).includes(provider)) {
    if (!remoteModelName.test(name)) return refuse(`the ${provider} model name must be letters, digits and . _ : / @ + - (at most 200)`);
    return ok(undefined);
  }
  if (provider === 'local') {
    if (localModelName(spec) === undefined) {
      return refuse('local models are named by their catalogue name (letters, digits, . _ -), never by a path');
    }
    return ok(undefined);
  }
  if (provider === 'scripted') {
    if (!allowScripted) return refuse('scripted models are not enabled on this server (SOMA_ALLOW_SCRIPTED_MODELS)');
    if (name === '') return refuse('a scripted model needs a script');
    return ok(undefined);
  }
  // The environment model (benchmarks, tests) is file-backed like `scripted:` and admitted by the same switch.
  if (provider === 'environment') {
    if (!allowScripted) return refuse('environment models are not enabled on this server (SOMA_ALLOW_SCRIPTED_MODELS)');
    if (name === '') return refuse('an environment model needs an environment file');
    return ok(undefined);
  }
  return refuse(`the model must be ${remoteModelProviders.map((p) => `${p}:<model>`).join(', ')} or local:<name>`);
}
