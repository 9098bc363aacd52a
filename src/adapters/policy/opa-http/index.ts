export { createOpaHttpPolicy, type OpaHttpPolicyOptions } from './opa-http-policy.js';
