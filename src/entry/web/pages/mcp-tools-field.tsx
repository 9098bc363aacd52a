import type { Capsule } from '../api';

/** One MCP tool of the capsule as the editor holds it: a registered server by name (SPEC §13.1). */
export interface McpChoice {
  name: string;
  server: string;
  /** The tool's name on the server; empty = the same as `name`. */
  tool: string;
  requires_approval: boolean;
  denied: boolean;
  timeout_ms: string;
  /** The rest of the stored config, sent back as read (masked secrets come back as "***" and the server keeps them). */
  rest: Record<string, unknown>;
}

/** The capsule's MCP tools as editor rows. */
export function mcpChoicesOf(capsule: Capsule | undefined): McpChoice[] {
  return (capsule?.tools ?? [])
    .filter((t) => t.kind === 'mcp')
    .map((t) => {
      const { server, tool, ...rest } = t.config ?? {};
      return {
        name: t.name,
        server: typeof server === 'string' ? server : '',
        tool: typeof tool === 'string' && tool !== t.name ? tool : '',
        requires_approval: t.requires_approval === true || (capsule?.tool_policy.approval_required ?? []).includes(t.name),
        denied: (capsule?.tool_policy.denied ?? []).includes(t.name),
        timeout_ms: String(t.timeout_ms ?? 60000),
        rest,
      };
    });
}

/** The rows as the `tools` entries of a capsule body. */
export function mcpToolBodies(choices: McpChoice[]) {
  return choices.map((c) => ({
    name: c.name.trim(),
    kind: 'mcp' as const,
    enabled: true,
    timeout_ms: Number(c.timeout_ms),
    ...(c.requires_approval ? { requires_approval: true } : {}),
    config: { ...c.rest, server: c.server, ...(c.tool.trim() ? { tool: c.tool.trim() } : {}) },
  }));
}

/** The MCP part of the tools fieldset: one row per MCP tool, each naming a server of the catalogue. */
export function McpToolsField({ servers, choices, onChange }: { servers: string[]; choices: McpChoice[]; onChange: (choices: McpChoice[]) => void }) {
  const update = (index: number, patch: Partial<McpChoice>) => onChange(choices.map((c, i) => (i === index ? { ...c, ...patch } : c)));
  const add = () => onChange([...choices, { name: '', server: servers[0] ?? '', tool: '', requires_approval: false, denied: false, timeout_ms: '60000', rest: {} }]);
  const value = (e: Event) => (e.target as HTMLInputElement).value;
  const checked = (e: Event) => (e.target as HTMLInputElement).checked;
  return (
    <div class="mcp-tools">
      <h3>MCP tools</h3>
      <p class="help" id="mcp-help">
        {servers.length > 0 ? (
          <>
            A tool of an MCP server the operator registered. Servers here: {servers.map((s, i) => (
              <span key={s}>
                {i > 0 ? ', ' : ''}
                <code>{s}</code>
              </span>
            ))}
            .
          </>
        ) : (
          <>No MCP servers are registered on this server (the operator lists them in <code>SOMA_MCP_SERVERS</code>).</>
        )}
      </p>
      {choices.map((choice, index) => (
        <div class="tool" key={index} data-testid="mcp-tool">
          <div class="row">
            <div>
              <label for={`mcp-${index}-name`}>Tool name</label>
              <input id={`mcp-${index}-name`} value={choice.name} onInput={(e) => update(index, { name: value(e) })} />
            </div>
            <div>
              <label for={`mcp-${index}-server`}>Server</label>
              <select id={`mcp-${index}-server`} value={choice.server} onChange={(e) => update(index, { server: (e.target as HTMLSelectElement).value })}>
                {servers.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
                {servers.includes(choice.server) ? null : <option value={choice.server}>{choice.server || '(none)'} (not registered)</option>}
              </select>
            </div>
            <div>
              <label for={`mcp-${index}-tool`}>Name on the server (if different)</label>
              <input id={`mcp-${index}-tool`} value={choice.tool} onInput={(e) => update(index, { tool: value(e) })} />
            </div>
          </div>
          <div class="row">
            <label class="check">
              <input type="checkbox" checked={choice.requires_approval} onChange={(e) => update(index, { requires_approval: checked(e) })} /> needs approval
            </label>
            <label class="check">
              <input type="checkbox" checked={choice.denied} onChange={(e) => update(index, { denied: checked(e) })} /> denied by policy
            </label>
            <div>
              <label for={`mcp-${index}-timeout`}>Timeout (ms)</label>
              <input id={`mcp-${index}-timeout`} type="number" min={1} max={600000} value={choice.timeout_ms} onInput={(e) => update(index, { timeout_ms: value(e) })} />
            </div>
            <button type="button" class="secondary" onClick={() => onChange(choices.filter((_, i) => i !== index))}>
              Remove {choice.name || 'this MCP tool'}
            </button>
          </div>
        </div>
      ))}
      <button type="button" class="secondary" onClick={add} disabled={servers.length === 0} aria-describedby="mcp-help">
        Add MCP tool
      </button>
    </div>
  );
}
