export * from './opa-wasm/index.js';
export * from './opa-http/index.js';
