import type { Catalogue } from '../api';
import type { ToolChoice } from './capsule-form';

/** The server's built-in tools, each with its policy: enabled, needs approval, denied, timeout (and hosts for http_fetch). */
export function BuiltinToolsField({ tools, choices, onChange }: { tools: Catalogue['tools']; choices: Record<string, ToolChoice>; onChange: (choices: Record<string, ToolChoice>) => void }) {
  const setTool = (name: string, patch: Partial<ToolChoice>) => onChange({ ...choices, [name]: { ...choices[name]!, ...patch } });
  return (
    <div class="tools">
      {tools.map((tool) => {
        const choice = choices[tool.name]!;
        return (
          <div class="tool" key={tool.name}>
            <label class="check">
              <input type="checkbox" checked={choice.enabled} onChange={(e) => setTool(tool.name, { enabled: (e.target as HTMLInputElement).checked })} aria-describedby={`tool-${tool.name}-help`} /> <strong>{tool.name}</strong>
            </label>
            <p class="help" id={`tool-${tool.name}-help`}>
              {tool.description}
            </p>
            {choice.enabled ? (
              <div class="row">
                <label class="check">
                  <input type="checkbox" checked={choice.requires_approval} onChange={(e) => setTool(tool.name, { requires_approval: (e.target as HTMLInputElement).checked })} /> needs approval
                </label>
                <label class="check">
                  <input type="checkbox" checked={choice.denied} onChange={(e) => setTool(tool.name, { denied: (e.target as HTMLInputElement).checked })} /> denied by policy
                </label>
                <div>
                  <label for={`timeout-${tool.name}`}>Timeout (ms)</label>
                  <input id={`timeout-${tool.name}`} type="number" min={1} max={600000} value={choice.timeout_ms} onInput={(e) => setTool(tool.name, { timeout_ms: (e.target as HTMLInputElement).value })} />
                </div>
                {tool.name === 'http_fetch' ? (
                  <div>
                    <label for="allowed-hosts">Allowed hosts (comma-separated)</label>
                    <input id="allowed-hosts" value={choice.allowed_hosts} onInput={(e) => setTool(tool.name, { allowed_hosts: (e.target as HTMLInputElement).value })} />
                  </div>
                ) : null}
              </div>
            ) : null}
          </div>
        );
      })}
    </div>
  );
}
