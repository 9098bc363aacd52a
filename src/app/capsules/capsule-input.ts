import type { ToolPolicy } from '../../ports/tools.js';

/** A tool of a capsule as a tenant sends it. */
export interface ToolInput {
  name: string;
  kind?: 'builtin' | 'mcp';
  description?: string;
  input_schema?: Record<string, unknown>;
  config?: Record<string, unknown>;
  enabled?: boolean;
  timeout_ms?: number;
  requires_approval?: boolean;
}

/** A capsule as a tenant sends it (`POST /v1/capsules`; a patch sends any part of it). */
export interface CapsuleInput {
  name: string;
  system_prompt: string;
  model?: string | null;
  allowed_models?: string[];
  rlm_enabled?: boolean;
  rlm_max_iterations?: number;
  rlm_min_iterations?: number;
  rlm_convergence_threshold?: number;
  learning_config?: Record<string, unknown>;
  tools?: ToolInput[];
  tool_policy?: ToolPolicy;
}
