import type { ApiError, Capsule, Catalogue } from '../api';
import { mcpChoicesOf, mcpToolBodies, type McpChoice } from './mcp-tools-field';

// The capsule editor's form state: how it is filled from a capsule, turned into a request, and where server errors go.

export interface ToolChoice {
  enabled: boolean;
  requires_approval: boolean;
  denied: boolean;
  timeout_ms: string;
  allowed_hosts: string;
}

export interface Form {
  name: string;
  system_prompt: string;
  model: string;
  allowed_models: string;
  rlm_enabled: boolean;
  rlm_max_iterations: string;
  rlm_min_iterations: string;
  rlm_convergence_threshold: string;
  learning_config: string;
  tools: Record<string, ToolChoice>;
  mcp: McpChoice[];
}

export const fieldLabels: Record<string, string> = {
  name: 'Name',
  system_prompt: 'System prompt',
  model: 'Model',
  allowed_models: 'Allowed models',
  rlm_enabled: 'Iterate',
  rlm_max_iterations: 'Maximum iterations',
  rlm_min_iterations: 'Minimum iterations',
  rlm_convergence_threshold: 'Convergence threshold',
  learning_config: 'Learning config',
  tools: 'Tools',
  tool_policy: 'Tools',
};

export function formOf(capsule: Capsule | undefined, catalogue: Catalogue): Form {
  const tools: Record<string, ToolChoice> = {};
  for (const tool of catalogue.tools) {
    const current = capsule?.tools.find((t) => t.name === tool.name && (t.kind ?? 'builtin') === 'builtin');
    tools[tool.name] = {
      enabled: current?.enabled ?? false,
      requires_approval: current?.requires_approval === true || (capsule?.tool_policy.approval_required ?? []).includes(tool.name),
      denied: (capsule?.tool_policy.denied ?? []).includes(tool.name),
      timeout_ms: String(current?.timeout_ms ?? 60000),
      allowed_hosts: ((current?.config?.allowed_hosts as string[] | undefined) ?? []).join(', '),
    };
  }
  return {
    name: capsule?.name ?? '',
    system_prompt: capsule?.system_prompt ?? 'You are a helpful assistant.',
    model: capsule?.model ?? '',
    allowed_models: (capsule?.allowed_models ?? []).join(', '),
    rlm_enabled: capsule?.rlm_enabled ?? true,
    rlm_max_iterations: String(capsule?.rlm_max_iterations ?? 10),
    rlm_min_iterations: String(capsule?.rlm_min_iterations ?? 1),
    rlm_convergence_threshold: String(capsule?.rlm_convergence_threshold ?? 0.3), // the server's default (README)
    learning_config: JSON.stringify(capsule?.learning_config ?? {}, null, 2),
    tools,
    mcp: mcpChoicesOf(capsule),
  };
}

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Which form field a server validation error belongs to (zod paths, or the field named first in the message). */
function fieldOf(path: string[] | undefined, message: string): string {
  const first = path?.[0];
  if (first && first in fieldLabels) return first === 'tool_policy' ? 'tools' : first;
  const named = /^([a-z_]+)/.exec(message)?.[1];
  if (named && named in fieldLabels) return named === 'tool_policy' ? 'tools' : named;
  return 'form';
}

/** The request body of the form: the tools and their policy only when they changed (or on create). */
export function capsuleBody(form: Form, initial: Form, learningConfig: Record<string, unknown> | undefined, editing: boolean): Record<string, unknown> {
  const builtin = Object.entries(form.tools).filter(([, t]) => t.enabled);
  const body: Record<string, unknown> = {
    name: form.name,
    system_prompt: form.system_prompt,
    model: form.model.trim() === '' ? null : form.model.trim(),
    allowed_models: list(form.allowed_models),
    rlm_enabled: form.rlm_enabled,
    rlm_max_iterations: Number(form.rlm_max_iterations),
    rlm_min_iterations: Number(form.rlm_min_iterations),
    rlm_convergence_threshold: Number(form.rlm_convergence_threshold),
    learning_config: learningConfig,
  };
  const toolsChanged = !editing || JSON.stringify([form.tools, form.mcp]) !== JSON.stringify([initial.tools, initial.mcp]);
  if (toolsChanged) {
    body.tools = [
      ...builtin.map(([name, t]) => ({
        name,
        kind: 'builtin',
        enabled: true,
        timeout_ms: Number(t.timeout_ms),
        ...(t.requires_approval ? { requires_approval: true } : {}),
        ...(name === 'http_fetch' ? { config: { allowed_hosts: list(t.allowed_hosts) } } : {}),
      })),
      ...mcpToolBodies(form.mcp),
    ];
    const policy = [...Object.entries(form.tools), ...form.mcp.map((m) => [m.name.trim(), m] as const)];
    body.tool_policy = {
      denied: policy.filter(([, t]) => t.denied).map(([name]) => name),
      approval_required: policy.filter(([, t]) => t.requires_approval).map(([name]) => name),
    };
  }
  return body;
}

/** The server's validation errors (400: a field fails its schema; 422: fields that do not fit together) by form field. */
export function errorsByField(err: ApiError): Record<string, string[]> {
  const details = Array.isArray(err.details) ? (err.details as { path?: string[]; message: string }[]) : [];
  const byField: Record<string, string[]> = {};
  const items = details.length > 0 ? details.map((d) => ({ field: fieldOf(d.path, d.message), message: d.path?.length ? `${d.path.join('.')}: ${d.message}` : d.message })) : [{ field: fieldOf(undefined, err.message), message: err.message }];
  for (const item of items) (byField[item.field] ??= []).push(item.message);
  return byField;
}
