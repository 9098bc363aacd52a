export { createAiSdkModel, summarizeLogprobs, type AiSdkModelOptions, type AiSdkProvider } from './ai-sdk-model.js';
export { countTiktokens, encodingForModelId, type TiktokenEncodingName } from '../tiktoken-counter.js';
export { toModelMessages } from './to-model-messages.js';
