// glibc's malloc settings for the long-running commands, applied by replacing the process with itself
// (same pid, same stdio) before anything is loaded. Used by bin/soma.mjs; tested by
// test/e2e/process.test.ts.
//
// Why: V8 compiles PGlite's WebAssembly (and optimises hot JavaScript) on worker threads; glibc raises
// its mmap threshold each time a large block is freed, so later large compile buffers come from the
// threads' arenas, and ~40 MB freed there stays resident for good (an idle `soma serve` on PGlite
// measured 171–181 MB or 215–221 MB, depending on the run). A fixed trim threshold turns that
// dynamic adjustment off and gives freed memory back: 171–179 MB in every run, turn cost unchanged
// within noise (README, "Figures").

/** Commands that run until they are stopped. */
const longRunning = new Set(['serve', 'relay', 'brain']);

export const trimThresholdBytes = '65536';

/**
 * True when this process should be replaced by itself with the settings: a long-running command on
 * Linux, Node with `process.execve`, and no malloc setting of the operator's own in the environment
 * (`MALLOC_TRIM_THRESHOLD_`, `GLIBC_TUNABLES`; `SOMA_MALLOC_DEFAULTS=1` keeps glibc's defaults).
 */
export function wantsMallocSettings(argv = process.argv, env = process.env, platform = process.platform) {
  if (platform !== 'linux' || typeof process.execve !== 'function') return false;
  if (env.MALLOC_TRIM_THRESHOLD_ !== undefined || env.GLIBC_TUNABLES !== undefined || env.SOMA_MALLOC_DEFAULTS === '1') return false;
  return longRunning.has(argv[2] ?? '');
}

/** Replaces this process with the same command and the malloc settings (does not return). */
export function execWithMallocSettings() {
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], { ...process.env, MALLOC_TRIM_THRESHOLD_: trimThresholdBytes });
}
