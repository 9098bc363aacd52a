import { readdirSync } from 'node:fs';
import { defaultModelsDir } from './model-factory.js';

/** Catalogue names (`local:<name>`) of the GGUF files in the operator's models folder, sorted; none when it is missing. */
export function listLocalModels(modelsDir?: string): string[] {
  try {
    return readdirSync(defaultModelsDir(modelsDir), { withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.gguf'))
      .map((entry) => `local:${entry.name.slice(0, -'.gguf'.length)}`)
      .sort();
  } catch {
    return [];
  }
}
