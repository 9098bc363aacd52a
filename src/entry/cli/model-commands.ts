import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../config.js';

/** Downloads (or copies from `source`) the default local model with a progress bar on a terminal; its path. */
export async function pullWithProgress(cfg: Config, source?: string): Promise<string> {
  const { pullModel, defaultModelsDir } = await import('../../main.js');
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar({ format: '{phase} [{bar}] {percentage}% {value}/{total} MB', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
  let started = false;
  try {
    return await pullModel({
      source,
      cacheDir: defaultModelsDir(cfg.modelsDir),
      onProgress: ({ phase, receivedBytes, totalBytes }: { phase: string; receivedBytes: number; totalBytes?: number }) => {
        if (!process.stderr.isTTY) return;
        const mb = (n: number) => Math.round(n / 1e5) / 10;
        if (!started) {
          bar.start(mb(totalBytes ?? 0), 0, { phase });
          started = true;
        }
        bar.setTotal(mb(totalBytes ?? receivedBytes));
        bar.update(mb(receivedBytes), { phase });
      },
    });
  } finally {
    if (started) bar.stop();
  }
}

/** `npm start` pulls the default model on first run; a missing custom model file is an error. */
export async function ensureLocalModel(cfg: Config, fail: (message: string) => never): Promise<void> {
  const { resolveLocalModelPath, defaultModelSpec } = await import('../../main.js');
  const file = resolveLocalModelPath(cfg.model, cfg.modelsDir);
  if (existsSync(file)) return;
  if (path.basename(file) !== defaultModelSpec.fileName) fail(`model file ${file} not found`);
  process.stderr.write('soma: first run — fetching the default local model (once)\n');
  await pullWithProgress(cfg);
}
