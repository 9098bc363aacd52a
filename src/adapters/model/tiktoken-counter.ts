import { createRequire } from 'node:module';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';

export type TiktokenEncodingName = 'o200k_base' | 'cl100k_base';

const encoders = new Map<TiktokenEncodingName, Tiktoken>();
const load = createRequire(import.meta.url);

/** The encoding's ranks (3.4 MB of source for both), read on the first count that needs them, not at start (~8 MB idle). */
function ranksOf(name: TiktokenEncodingName): TiktokenBPE {
  return load(`js-tiktoken/ranks/${name}`) as TiktokenBPE;
}

function encoderFor(name: TiktokenEncodingName): Tiktoken {
  let encoder = encoders.get(name);
  if (!encoder) {
    encoder = new Tiktoken(ranksOf(name));
    encoders.set(name, encoder);
  }
  return encoder;
}

/**
 * The tiktoken encoding that counts tokens for a remote model: `o200k_base` for the OpenAI models
 * that use it (gpt-4o, gpt-4.1, gpt-5, o-series), `cl100k_base` for older OpenAI models and as the
 * closest maintained approximation for Anthropic and OpenAI-compatible models.
 */
export function encodingForModelId(provider: string, modelId: string): TiktokenEncodingName {
  if (provider === 'openai' && /^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o\d|chatgpt-4o|gpt-oss)/.test(modelId)) return 'o200k_base';
  return 'cl100k_base';
}

/** Counts tokens of `text` with a tiktoken encoding (the ranks load once per process). */
export function countTiktokens(text: string, encoding: TiktokenEncodingName): number {
  if (text.length === 0) return 0;
  return encoderFor(encoding).encode(text, 'all').length;
}
