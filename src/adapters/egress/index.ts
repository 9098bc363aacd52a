export { createEgressPolicy, EgressRefusedError, type EgressPolicy, type EgressPolicyOptions, type Resolve, type ResolvedAddress } from './egress-policy.js';
export { addressCategory, embeddedIPv4, inAllowedRange, parseEgressAllowList, type EgressAllowList } from './address-category.js';
