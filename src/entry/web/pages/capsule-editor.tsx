import { useEffect, useMemo, useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { api, ApiError, type Capsule, type Catalogue, type Tool } from '../api';
import { useApi, useTitle } from '../ui/hooks';
import { ErrorNote, Loadable } from '../ui/status';

interface ToolChoice {
  enabled: boolean;
  requires_approval: boolean;
  denied: boolean;
  timeout_ms: string;
  allowed_hosts: string;
}

interface Form {
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
}

const fieldLabels: Record<string, string> = {
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

function formOf(capsule: Capsule | undefined, catalogue: Catalogue): Form {
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
    rlm_convergence_threshold: String(capsule?.rlm_convergence_threshold ?? 0.9),
    learning_config: JSON.stringify(capsule?.learning_config ?? {}, null, 2),
    tools,
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

export function CapsuleEditor() {
  const { params } = useRoute();
  const location = useLocation();
  const id = params.id;
  const catalogue = useApi<Catalogue>('/v1/catalogue', '/v1/catalogue');
  const capsule = useApi<Capsule>(id ? `/v1/capsules/${id}` : null);
  useTitle(id ? 'Edit capsule' : 'New capsule');
  const ready = catalogue.data && (!id || capsule.data);
  return (
    <section>
      <h1 tabIndex={-1}>{id ? `Capsule ${capsule.data?.name ?? ''}` : 'New capsule'}</h1>
      {capsule.error ? <ErrorNote error={capsule.error} /> : null}
      <Loadable state={{ ...catalogue, data: ready ? catalogue.data : undefined }} feature="The tool and model catalogue" route="GET /v1/catalogue">
        {(cat) => <EditorForm key={capsule.data?.updated_at ?? 'new'} capsule={capsule.data} catalogue={cat} onSaved={(saved) => (id ? capsule.reload() : location.route(`/capsules/${saved.id}?created=1`))} />}
      </Loadable>
    </section>
  );
}

function EditorForm({ capsule, catalogue, onSaved }: { capsule: Capsule | undefined; catalogue: Catalogue; onSaved: (capsule: Capsule) => void }) {
  const initial = useMemo(() => formOf(capsule, catalogue), [capsule, catalogue]);
  const [form, setForm] = useState<Form>(initial);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string | null>(new URLSearchParams(location.search).get('created') ? 'Capsule created.' : null);
  useEffect(() => setForm(initial), [initial]);

  const set = <K extends keyof Form>(key: K, value: Form[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setSaved(null);
  };
  const setTool = (name: string, patch: Partial<ToolChoice>) => set('tools', { ...form.tools, [name]: { ...form.tools[name]!, ...patch } });
  const mcpTools: Tool[] = capsule?.tools.filter((t) => t.kind === 'mcp') ?? [];

  const submit = async (event: Event) => {
    event.preventDefault();
    const found: Record<string, string[]> = {};
    let learningConfig: Record<string, unknown> | undefined;
    try {
      learningConfig = JSON.parse(form.learning_config || '{}') as Record<string, unknown>;
      if (learningConfig === null || typeof learningConfig !== 'object' || Array.isArray(learningConfig)) throw new Error('not an object');
    } catch {
      found.learning_config = ['Learning config must be a JSON object, e.g. {"temperature": 0.7}.'];
    }
    if (Object.keys(found).length > 0) {
      setErrors(found);
      return;
    }
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
    const toolsChanged = !capsule || JSON.stringify(form.tools) !== JSON.stringify(initial.tools);
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
      ];
      body.tool_policy = {
        denied: Object.entries(form.tools).filter(([, t]) => t.denied).map(([name]) => name),
        approval_required: Object.entries(form.tools).filter(([, t]) => t.requires_approval).map(([name]) => name),
      };
      // A capsule with MCP tools keeps its tool list: their secrets are write-only and cannot be sent back.
      if (mcpTools.length > 0) delete body.tools;
    }
    setSaving(true);
    setErrors({});
    try {
      const result = capsule ? await api<Capsule>('PATCH', `/v1/capsules/${capsule.id}`, body) : await api<Capsule>('POST', '/v1/capsules', body);
      setSaved(capsule ? 'Saved.' : 'Capsule created.');
      onSaved(result);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) {
        const details = Array.isArray(err.details) ? (err.details as { path?: string[]; message: string }[]) : [];
        const byField: Record<string, string[]> = {};
        const items = details.length > 0 ? details.map((d) => ({ field: fieldOf(d.path, d.message), message: d.path?.length ? `${d.path.join('.')}: ${d.message}` : d.message })) : [{ field: fieldOf(undefined, err.message), message: err.message }];
        for (const item of items) (byField[item.field] ??= []).push(item.message);
        setErrors(byField);
        const first = Object.keys(byField)[0];
        if (first && first !== 'form') document.getElementById(`field-${first}`)?.focus();
      } else setErrors({ form: [(err as Error).message] });
    } finally {
      setSaving(false);
    }
  };

  const invalid = (field: string) => (errors[field] ? { 'aria-invalid': true, 'aria-describedby': `error-${field}` } : {});
  const fieldError = (field: string) =>
    errors[field] ? (
      <p class="field-error" id={`error-${field}`} data-testid={`error-${field}`}>
        {errors[field]!.join(' ')}
      </p>
    ) : null;
  const errorCount = Object.values(errors).flat().length;

  return (
    <form class="editor" onSubmit={submit} noValidate>
      {errorCount > 0 ? (
        <div class="error" role="alert">
          The server refused the capsule ({errorCount} problem{errorCount === 1 ? '' : 's'}):
          <ul>
            {Object.entries(errors).map(([field, messages]) => (
              <li key={field}>
                {fieldLabels[field] ?? 'Capsule'}: {messages.join(' ')}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <fieldset>
        <legend>Agent</legend>
        <label for="field-name">Name</label>
        <input id="field-name" value={form.name} onInput={(e) => set('name', (e.target as HTMLInputElement).value)} {...invalid('name')} />
        {fieldError('name')}
        <label for="field-system_prompt">System prompt</label>
        <textarea id="field-system_prompt" rows={5} value={form.system_prompt} onInput={(e) => set('system_prompt', (e.target as HTMLTextAreaElement).value)} {...invalid('system_prompt')} />
        {fieldError('system_prompt')}
        <label for="field-model">Model</label>
        <input id="field-model" list="model-choices" value={form.model} placeholder={`server default (${catalogue.models.default})`} onInput={(e) => set('model', (e.target as HTMLInputElement).value)} aria-describedby="model-help" {...invalid('model')} />
        <datalist id="model-choices">
          {catalogue.models.choices.map((m) => (
            <option key={m} value={m} />
          ))}
        </datalist>
        <p class="help" id="model-help">
          Empty uses the server default, <code>{catalogue.models.default}</code>. Providers here:{' '}
          {catalogue.models.providers.map((p, i) => (
            <span key={p.prefix}>
              {i > 0 ? ', ' : ''}
              <code>{p.prefix}:</code> {p.available ? 'available' : <span class="muted">not available{p.reason ? ` (${p.reason})` : ''}</span>}
            </span>
          ))}
          .
        </p>
        {fieldError('model')}
        <label for="field-allowed_models">Allowed models (comma-separated, tried in order when no model is set)</label>
        <input id="field-allowed_models" value={form.allowed_models} onInput={(e) => set('allowed_models', (e.target as HTMLInputElement).value)} {...invalid('allowed_models')} />
        {fieldError('allowed_models')}
      </fieldset>

      <fieldset>
        <legend>Iterations (RLM)</legend>
        <label class="check">
          <input id="field-rlm_enabled" type="checkbox" checked={form.rlm_enabled} onChange={(e) => set('rlm_enabled', (e.target as HTMLInputElement).checked)} /> Iterate (off = single shot)
        </label>
        <div class="row">
          <div>
            <label for="field-rlm_min_iterations">Minimum iterations</label>
            <input id="field-rlm_min_iterations" type="number" min={1} max={10} value={form.rlm_min_iterations} onInput={(e) => set('rlm_min_iterations', (e.target as HTMLInputElement).value)} {...invalid('rlm_min_iterations')} />
            {fieldError('rlm_min_iterations')}
          </div>
          <div>
            <label for="field-rlm_max_iterations">Maximum iterations</label>
            <input id="field-rlm_max_iterations" type="number" min={1} max={10} value={form.rlm_max_iterations} onInput={(e) => set('rlm_max_iterations', (e.target as HTMLInputElement).value)} {...invalid('rlm_max_iterations')} />
            {fieldError('rlm_max_iterations')}
          </div>
          <div>
            <label for="field-rlm_convergence_threshold">Convergence threshold</label>
            <input id="field-rlm_convergence_threshold" type="number" min={0} max={1} step={0.01} value={form.rlm_convergence_threshold} onInput={(e) => set('rlm_convergence_threshold', (e.target as HTMLInputElement).value)} {...invalid('rlm_convergence_threshold')} />
            {fieldError('rlm_convergence_threshold')}
          </div>
        </div>
      </fieldset>

      <fieldset id="field-tools" tabIndex={-1}>
        <legend>Tools and policy</legend>
        <p class="help">Built-in tools of this server. A denied tool is refused by the policy; an approval-required tool runs only once approved.</p>
        {fieldError('tools')}
        <div class="tools">
          {catalogue.tools.map((tool) => {
            const choice = form.tools[tool.name]!;
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
          {mcpTools.map((tool) => (
            <div class="tool" key={tool.name}>
              <strong>{tool.name}</strong> <span class="badge">MCP</span>
              <p class="help">An MCP tool: while the capsule has one, its tool list is edited through the API (secrets are write-only); the policy can still be changed here.</p>
            </div>
          ))}
        </div>
      </fieldset>

      <fieldset>
        <legend>Learning</legend>
        <label for="field-learning_config">Learning config (JSON)</label>
        <textarea id="field-learning_config" class="mono" rows={6} value={form.learning_config} onInput={(e) => set('learning_config', (e.target as HTMLTextAreaElement).value)} aria-describedby="learning-help" {...invalid('learning_config')} />
        <p class="help" id="learning-help">
          Overrides of the learning constants, e.g. <code>{'{"temperature": 0.7, "update_rule": "perturbation", "lr_base": 0.05, "weights": {"alpha": {"max": 3}}}'}</code>. The server checks every field.
        </p>
        {fieldError('learning_config')}
      </fieldset>
      {fieldError('form')}
      <div class="form-actions">
        <button type="submit" disabled={saving}>
          {saving ? 'Saving…' : capsule ? 'Save changes' : 'Create capsule'}
        </button>
        {saved ? (
          <span role="status" class="ok">
            {saved}
          </span>
        ) : null}
        {capsule ? (
          <>
            <a href={`/chat?capsule=${capsule.id}`}>Chat with it</a>
            <a href={`/learning/${capsule.id}`}>Its learning</a>
          </>
        ) : null}
      </div>
    </form>
  );
}
