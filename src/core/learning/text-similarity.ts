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
  const left = normalise(a);
  const right = normalise(b);
  if (left === right) return 1;
  if (left.length === 0 || right.length === 0) return 0;
  const leftGrams = trigrams(left);
  const rightGrams = trigrams(right);
  const [small, large] = leftGrams.size <= rightGrams.size ? [leftGrams, rightGrams] : [rightGrams, leftGrams];
  let shared = 0;
  for (const gram of small) if (large.has(gram)) shared += 1;
  return (2 * shared) / (leftGrams.size + rightGrams.size);
}

function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

function trigrams(normalised: string): Set<string> {
  const padded = ` ${normalised} `;
  const chars = Array.from(padded);
  const grams = new Set<string>();
  for (let i = 0; i + 3 <= chars.length; i += 1) grams.add(chars[i]! + chars[i + 1]! + chars[i + 2]!);
  return grams;
}
