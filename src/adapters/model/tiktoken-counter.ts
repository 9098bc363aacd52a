import { createRequire } from 'node:module';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';

export type TiktokenEncodingName = 'o200k_base' | 'cl100k_base';

const load = createRequire(import.meta.url);

/** The encoding's ranks (3.4 MB of source for both), read on the first count that needs them, not at start (~8 MB idle). */
function ranksOf(name: TiktokenEncodingName): TiktokenBPE {
  return load(`js-tiktoken/ranks/${name}`) as TiktokenBPE;
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

/**
 * Texts up to this length without a line break are counted (and cached) whole; longer ones and those
 * with line breaks are split at safe cuts first, so a line counted once (a memory's answer, say) is a
 * cache hit wherever it appears again (that memory's line in the next prompts).
 */
const SPLIT_ABOVE = 512;
const LINE_BREAK = /[\r\n]/;
/** Texts and segments longer than this are counted but not cached (a huge one would crowd the cache out). */
const MAX_CACHED_SEGMENT = 16_384;
/** Budget of one cache generation, in UTF-16 units of its keys and in entries (two generations per encoding, ~2 MB at most). */
const GENERATION_CHARS = 1 << 19;
const GENERATION_ENTRIES = 4_096;

/**
 * Where a text may be cut so that its token count is the sum of the parts' counts: right after a
 * maximal run of `\r`/`\n`, when the next character is not `/` and the whitespace that follows
 * (spaces, tabs, …, up to the next non-space or the end) holds no further `\r`/`\n`.
 *
 * Why this is exact for both pre-tokenizers (o200k_base and cl100k_base `pat_str`): tiktoken cuts
 * the text at special tokens, splits each stretch with the pattern and byte-pair-encodes every
 * piece on its own, so a count is additive across any position that is a piece boundary in the
 * whole text and where the parts are split into the same pieces. A line break can only be inside a
 * piece of two alternatives: ` ?[^\s\p{L}\p{N}]+[\r\n/]*` (cl100k: `[\r\n]*`), whose greedy tail
 * ends at the first character outside `[\r\n/]`, so here right at the cut; and `\s*[\r\n]+`, which
 * takes the whole whitespace run up to its last line break, so right at the cut when no line break
 * follows in the whitespace after it (`"\n \n"` is one piece, hence that condition). The other
 * alternatives never hold `\r`/`\n` (the letter alternatives' optional lead is `[^\r\n\p{L}\p{N}]`),
 * and `\s+(?!\S)` / `\s+` are tried only after `\s*[\r\n]+`, which matches first wherever a
 * whitespace run holds a line break. The pattern has no look-behind, so the part after the cut is
 * split as it is in the whole text. In the part before it each piece is found as in the whole
 * text: cutting off the rest can only make a match attempt fail sooner, except at the negative
 * look-ahead `(?!\S)`, which could reach the cut only through a whitespace run ending in the line
 * break, where `\s*[\r\n]+` is tried and wins first. Special tokens (`<|…|>`) hold no line break,
 * so none spans the cut, and one that starts right at the cut ends a stretch there in the whole
 * text as well.
 *
 * The look-behind starts a match only at the beginning of a run, which keeps the scan linear.
 */
const SAFE_CUT = /(?<![\r\n])[\r\n]+(?![\r\n/])(?=[^\S\r\n]*(?:\S|$))/gu;

/**
 * An encoding's encoder and a bounded cache of counts (whole texts and segments of long ones): two
 * generations, the older one dropped whole when the current one is full, and a hit in the older one
 * carried over (close to LRU, without per-entry eviction).
 */
class CachedCounts {
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  private chars = 0;

  constructor(private readonly encoder: Tiktoken) {}

  /** The cached count of `text`, carried into the current generation; undefined when not cached. */
  cached(text: string): number | undefined {
    const hit = this.current.get(text);
    if (hit !== undefined) return hit;
    const old = this.previous.get(text);
    if (old !== undefined) this.remember(text, old);
    return old;
  }

  /** `text`'s count: cached, or encoded and remembered. */
  count(text: string): number {
    const hit = this.cached(text);
    if (hit !== undefined) return hit;
    const count = this.encoder.encode(text, 'all').length;
    this.remember(text, count);
    return count;
  }

  remember(text: string, count: number): void {
    if (text.length > MAX_CACHED_SEGMENT) return;
    if (this.chars + text.length > GENERATION_CHARS || this.current.size >= GENERATION_ENTRIES) {
      this.previous = this.current;
      this.current = new Map();
      this.chars = 0;
    }
    // A copy: a segment sliced from its text would keep the whole text alive as long as it is cached.
    this.current.set(` ${text}`.slice(1), count);
    this.chars += text.length;
  }
}

/** Per encoding, created on the first count that needs it (its ranks load then). */
const countsByEncoding = new Map<TiktokenEncodingName, CachedCounts>();

function countsFor(name: TiktokenEncodingName): CachedCounts {
  let counts = countsByEncoding.get(name);
  if (!counts) {
    counts = new CachedCounts(new Tiktoken(ranksOf(name)));
    countsByEncoding.set(name, counts);
  }
  return counts;
}

/**
 * Counts tokens of `text` with a tiktoken encoding (the ranks load once per process); the count is
 * exactly `encode(text, 'all').length`. Counts are cached; a long or multi-line text not seen before is counted line
 * block by line block at safe cuts, each block's count cached, so a prompt rebuilt every turn from
 * mostly the same lines costs only its new lines.
 */
export function countTiktokens(text: string, encoding: TiktokenEncodingName): number {
  if (text.length === 0) return 0;
  const counts = countsFor(encoding);
  if (text.length <= SPLIT_ABOVE && !LINE_BREAK.test(text)) return counts.count(text);
  // A long text seen again (a prompt's messages every iteration) is one lookup, not a walk of its cuts.
  const whole = counts.cached(text);
  if (whole !== undefined) return whole;
  let total = 0;
  let start = 0;
  SAFE_CUT.lastIndex = 0;
  for (let match = SAFE_CUT.exec(text); match !== null; match = SAFE_CUT.exec(text)) {
    const cut = match.index + match[0].length;
    if (cut >= text.length) break;
    total += counts.count(text.slice(start, cut));
    start = cut;
  }
  total += counts.count(text.slice(start));
  counts.remember(text, total);
  return total;
}
