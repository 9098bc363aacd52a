/**
 * mulberry32: a small, fast seeded PRNG. The same seed always gives the same stream of numbers in
 * [0, 1) (each an unsigned 32-bit draw ÷ 2³²), which is what replay and seeded benchmarks rely on.
 */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
