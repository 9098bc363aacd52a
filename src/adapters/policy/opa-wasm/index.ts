export { createOpaWasmPolicy, defaultPolicyWasmPath, type OpaWasmPolicyOptions } from './opa-wasm-policy.js';
