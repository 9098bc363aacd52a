export { createLlamaCppModel, type LlamaCppModelOptions } from './llama-cpp-model.js';
export { toFunctionParams } from './to-function-params.js';
export { toLlamaHistory } from './to-llama-history.js';
