export { createEnvironmentModel, judgePrompt, environmentSchema, type Environment, type EnvironmentVerdict } from './environment-model.js';
