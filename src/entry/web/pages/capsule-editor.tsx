import { useEffect, useMemo, useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { api, ApiError, type Capsule, type Catalogue } from '../api';
import { useApi, useTitle } from '../ui/hooks';
import { ErrorNote, Loadable } from '../ui/status';
import { BuiltinToolsField } from './builtin-tools-field';
import { capsuleBody, errorsByField, fieldLabels, formOf, type Form } from './capsule-form';
import { McpToolsField } from './mcp-tools-field';

export function CapsuleEditor() {
  const { params } = useRoute();
  const location = useLocation();
  const id = params.id;
  const catalogue = useApi<Catalogue>('/v1/catalogue', '/v1/catalogue');
  const capsule = useApi<Capsule>(id ? `/v1/capsules/${id}` : null);
  useTitle(id ? 'Edit capsule' : 'New capsule');
  const ready = catalogue.data && (!id || capsule.data);
  // Saving reloads the capsule and so remounts the form (its key is the version): the version saved here keeps its "Saved." note.
  const [savedVersion, setSavedVersion] = useState<string | null>(null);
  const notice = capsule.data && capsule.data.updated_at === savedVersion ? 'Saved.' : location.query.created ? 'Capsule created.' : null;
  const onSaved = (saved: Capsule) => {
    if (!id) return location.route(`/capsules/${saved.id}?created=1`);
    setSavedVersion(saved.updated_at);
    capsule.reload();
  };
  return (
    <section>
      <h1 tabIndex={-1}>{id ? `Capsule ${capsule.data?.name ?? ''}` : 'New capsule'}</h1>
      {capsule.error ? <ErrorNote error={capsule.error} /> : null}
      <Loadable state={{ ...catalogue, data: ready ? catalogue.data : undefined }} feature="The tool and model catalogue" route="GET /v1/catalogue">
        {(cat) => <EditorForm key={capsule.data?.updated_at ?? 'new'} capsule={capsule.data} catalogue={cat} notice={notice} onSaved={onSaved} />}
      </Loadable>
    </section>
  );
}

function EditorForm({ capsule, catalogue, notice, onSaved }: { capsule: Capsule | undefined; catalogue: Catalogue; notice: string | null; onSaved: (capsule: Capsule) => void }) {
  const initial = useMemo(() => formOf(capsule, catalogue), [capsule, catalogue]);
  const [form, setForm] = useState<Form>(initial);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string | null>(notice);
  useEffect(() => setForm(initial), [initial]);

  const set = <K extends keyof Form>(key: K, value: Form[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setSaved(null);
  };

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
    const body = capsuleBody(form, initial, learningConfig, capsule !== undefined);
    setSaving(true);
    setErrors({});
    try {
      const result = capsule ? await api<Capsule>('PATCH', `/v1/capsules/${capsule.id}`, body) : await api<Capsule>('POST', '/v1/capsules', body);
      setSaved(capsule ? 'Saved.' : 'Capsule created.');
      onSaved(result);
    } catch (err) {
      // 400: a field fails its schema; 422: fields that do not fit together (e.g. minimum above maximum).
      if (err instanceof ApiError && (err.status === 400 || err.status === 422)) {
        const byField = errorsByField(err);
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
        <BuiltinToolsField tools={catalogue.tools} choices={form.tools} onChange={(tools) => set('tools', tools)} />
        <McpToolsField servers={catalogue.mcp_servers ?? []} choices={form.mcp} onChange={(mcp) => set('mcp', mcp)} />
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
