export { createScriptedModel, loadScript, scriptSchema, type Script, type ScriptedIteration } from './scripted-model.js';
