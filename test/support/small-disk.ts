import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireServices } from './services.js';

/**
 * A small file system of its own (a tmpfs mount) for the disk-full row of the fault matrix: a folder
 * whose free space the test can use up with a filler file and give back, without touching the
 * machine's disks. Mounting needs root (CI runs as root); elsewhere the row is skipped with a reason.
 */
export interface SmallDisk {
  dir: string;
  /** Writes a filler file until the file system says ENOSPC; resolves with the bytes it took. */
  fill(): number;
  /** Deletes the filler file (the space is back). */
  free(): void;
  /** Bytes still free on the mount. */
  available(): number;
  unmount(): void;
}

/** Why a tmpfs cannot be mounted here (undefined when it can). Probed once by mounting and unmounting one. */
let probed: string | undefined | null = null;
export function smallDiskUnavailable(): string | undefined {
  if (probed !== null) return probed;
  if (process.platform !== 'linux') probed = `mounting a tmpfs needs Linux (this is ${process.platform})`;
  else if (process.getuid?.() !== 0) probed = 'mounting a tmpfs needs root';
  else {
    try {
      mountSmallDisk(1).unmount();
      probed = undefined;
    } catch (error) {
      probed = `mount -t tmpfs failed: ${(error as Error).message.split('\n')[0]}`;
    }
  }
  return probed;
}

/** True when the disk-full test should be skipped (and says why); throws when services are required (CI). */
export function skipWithoutSmallDisk(): boolean {
  const reason = smallDiskUnavailable();
  if (!reason) return false;
  if (requireServices) throw new Error(`the disk-full test is required (SOMA_TEST_REQUIRE_SERVICES=1) but ${reason}`);
  console.warn(`skipping the disk-full test: ${reason}`);
  return true;
}

/** Mounts a tmpfs of `sizeMb` MB on a fresh folder. */
export function mountSmallDisk(sizeMb: number): SmallDisk {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const filler = path.join(dir, 'filler');
  const available = () => {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize;
  };
  return {
    dir,
    available,
    fill() {
      const fd = openSync(filler, 'a');
      let written = 0;
      try {
        for (const size of [1 << 20, 4096]) {
          const chunk = Buffer.alloc(size);
          for (;;) {
            try {
              written += writeSync(fd, chunk);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw error;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free: () => rmSync(filler, { force: true }),
    unmount() {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch {
        // Still busy (a file the closed server's database had open is not yet released): detach it now,
        // the kernel frees it once the last handle goes.
        execFileSync('umount', ['--lazy', dir], { stdio: 'pipe' });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
