/**
 * Deterministic text similarity in [0, 1]: the Sørensen–Dice coefficient of the two texts' sets of
 * character 3-grams, after normalisation (Unicode NFKC, lower case, every run of characters that are
 * not letters or digits collapsed to one space, trimmed, then padded with one space at each end so
 * short words still make 3-grams).
 *
 * Symmetric; 1 for texts equal after normalisation (two empty texts included); 0 when exactly one is
 * empty or no 3-gram is shared. Robust to small edits and word order changes, which is what draft
 * stability and novelty (1 − max similarity to the recalled memories) need.
 */
export function textSimilarity(a: string, b: string): number {
  // Bounded memo, emptied before (never between) the two look-ups: both profiles number their 3-grams alike.
  if (profiles.size >= PROFILES_KEPT || gramIds.size >= GRAM_IDS_KEPT) {
    profiles.clear();
    gramIds.clear();
  }
  const { normalised: left, grams: leftGrams } = profileOf(a);
  const { normalised: right, grams: rightGrams } = profileOf(b);
  if (left === right) return 1;
  if (left.length === 0 || right.length === 0) return 0;
  // Both sorted and without repeats: count the common ids in one merge.
  let shared = 0;
  for (let i = 0, j = 0; i < leftGrams.length && j < rightGrams.length; ) {
    const x = leftGrams[i]!;
    const y = rightGrams[j]!;
    if (x === y) {
      shared += 1;
      i += 1;
      j += 1;
    } else if (x < y) i += 1;
    else j += 1;
  }
  return (2 * shared) / (leftGrams.length + rightGrams.length);
}

interface Profile {
  normalised: string;
  /** The text's distinct 3-grams as ids (see {@link gramIds}), ascending. */
  grams: Int32Array;
}

/**
 * The last texts' normalised forms and 3-gram sets: a turn compares each draft with the same recalled
 * memories and the previous draft every iteration, so each text's set is built once, not per
 * comparison (a pure memo: the result is the same with or without it). Bounded.
 */
const profiles = new Map<string, Profile>();
const PROFILES_KEPT = 512;
/** Each 3-gram seen by the kept profiles, numbered in order of first sight; cleared with them. */
const gramIds = new Map<string, number>();
const GRAM_IDS_KEPT = 200_000;

function profileOf(text: string): Profile {
  let profile = profiles.get(text);
  if (!profile) {
    const normalised = normalise(text);
    profile = { normalised, grams: normalised.length === 0 ? new Int32Array(0) : trigrams(normalised) };
    profiles.set(text, profile);
  }
  return profile;
}

function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

function trigrams(normalised: string): Int32Array {
  const padded = ` ${normalised} `;
  const chars = Array.from(padded);
  const ids = new Set<number>();
  for (let i = 0; i + 3 <= chars.length; i += 1) {
    const gram = chars[i]! + chars[i + 1]! + chars[i + 2]!;
    let id = gramIds.get(gram);
    if (id === undefined) gramIds.set(gram, (id = gramIds.size));
    ids.add(id);
  }
  return Int32Array.from(ids).sort();
}
