import { createWriteStream } from 'node:fs';
import { stat, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { ModelSpec } from './model-spec.js';
import { commitIfChecksumMatches, sha256OfFile, type ProgressListener } from './verified-file.js';

export interface HuggingFaceDownloadOptions {
  spec: ModelSpec;
  /** Final path of the model file. The download goes to `<destination>.part` first. */
  destination: string;
  /** Hub base URL (`HF_ENDPOINT`). */
  endpoint: string;
  /** Time allowed to connect and receive the response headers. */
  connectTimeoutMs?: number;
  /** Time allowed between two body chunks. */
  idleTimeoutMs?: number;
  /** Bearer token for gated repositories (`HF_TOKEN`). */
  token?: string;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

/**
 * Downloads the spec's Hugging Face file over HTTPS. A `.part` file left by an interrupted download
 * is resumed with a `Range` request; the whole file is SHA-256 checked before it is moved into place.
 */
export async function downloadFromHuggingFace({
  spec,
  destination,
  endpoint,
  connectTimeoutMs = 5_000,
  idleTimeoutMs = 30_000,
  token,
  onProgress,
  signal,
}: HuggingFaceDownloadOptions): Promise<string> {
  const source = spec.huggingFace;
  if (!source) throw new Error(`model ${spec.name} has no Hugging Face source`);
  const url = `${endpoint.replace(/\/+$/, '')}/${source.repository}/resolve/${encodeURIComponent(source.revision)}/${source.file}`;
  const partPath = `${destination}.part`;
  let offset = (await stat(partPath).catch(() => undefined))?.size ?? 0;
  if (offset > spec.sizeBytes) {
    await rm(partPath, { force: true });
    offset = 0;
  }

  if (offset < spec.sizeBytes) {
    const controller = new AbortController();
    const abort = (reason: string): void => controller.abort(new DOMException(reason, 'TimeoutError'));
    let timer = setTimeout(() => abort(`no response from ${endpoint} within ${connectTimeoutMs} ms`), connectTimeoutMs);
    const headers: Record<string, string> = {};
    if (offset > 0) headers.range = `bytes=${offset}-`;
    if (token) headers.authorization = `Bearer ${token}`;
    try {
      const response = await fetch(url, { headers, redirect: 'follow', signal: signal ? AbortSignal.any([signal, controller.signal]) : controller.signal });
      if (response.status === 200) offset = 0;
      else if (response.status !== 206) throw new Error(`GET ${url} answered HTTP ${response.status}`);
      if (!response.body) throw new Error(`GET ${url} returned no body`);
      const length = Number(response.headers.get('content-length'));
      const totalBytes = Number.isFinite(length) && length > 0 ? offset + length : spec.sizeBytes;
      const file = createWriteStream(partPath, { flags: offset > 0 ? 'a' : 'w' });
      let received = offset;
      try {
        for await (const chunk of response.body) {
          clearTimeout(timer);
          timer = setTimeout(() => abort(`download from ${endpoint} stalled for ${idleTimeoutMs} ms`), idleTimeoutMs);
          if (!file.write(chunk)) await once(file, 'drain');
          received += chunk.length;
          onProgress?.({ phase: 'download', source: 'huggingface', receivedBytes: received, totalBytes });
        }
      } finally {
        file.end();
        await once(file, 'close');
      }
    } finally {
      clearTimeout(timer);
    }
  }

  const actual = await sha256OfFile(partPath, (hashed) =>
    onProgress?.({ phase: 'verify', source: 'huggingface', receivedBytes: hashed, totalBytes: spec.sizeBytes }),
  );
  await commitIfChecksumMatches({ tempPath: partPath, finalPath: destination, expected: spec.sha256, actual });
  return destination;
}
