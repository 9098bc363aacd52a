import { describe, expect, it } from 'vitest';
import type { Failure } from '../../shared/errors.js';
import type { Result } from '../../shared/result.js';
import { admitCapsuleInput, checkCapsuleModel, checkMcpToolReference, localModelName } from './index.js';

const rules = { mcpServers: ['files', 'search'], allowScriptedModels: false };
const errorOf = (run: () => Result<unknown, Failure>) => {
  const result = run();
  if (result.ok) throw new Error('expected a refusal');
  return result.error;
};
const accepted = (run: () => Result<unknown, Failure>) => run().ok;

describe('checkMcpToolReference', () => {
  it('accepts a registered server by name, with the remote tool name defaulting to the capability name', () => {
    expect(checkMcpToolReference({ capability: { name: 'echo', config: { server: 'files' } }, servers: rules.mcpServers })).toEqual({ ok: true, value: { server: 'files', tool: 'echo' } });
    expect(checkMcpToolReference({ capability: { name: 'sum', config: { server: 'files', tool: 'add' } }, servers: rules.mcpServers })).toEqual({ ok: true, value: { server: 'files', tool: 'add' } });
  });

  it('refuses an inline server object without echoing it', () => {
    const inline = { transport: 'stdio', command: 'sh', args: ['-c', 'touch /tmp/pwned'], env: { TOKEN: 'hunter2' } };
    const error = errorOf(() => checkMcpToolReference({ capability: { name: 'x', config: { server: inline } }, servers: rules.mcpServers }));
    expect(error.code).toBe('MCP_SERVER_UNKNOWN');
    expect(error.message).toBe('MCP tool "x": config.server must be the name of a registered MCP server, not a server definition (registered servers: files, search)');
    expect(error.message).not.toMatch(/touch|hunter2|sh/);
  });

  it.each([
    [{ server: 'nope' }, 'no MCP server named "nope" is registered'],
    [{}, 'config.server must name a registered MCP server'],
    [{ server: '' }, 'config.server must name a registered MCP server'],
    [{ server: 42 }, 'config.server must name a registered MCP server'],
    [{ server: null }, 'config.server must name a registered MCP server'],
    [{ server: ['files'] }, 'not a server definition'],
  ])('refuses %j', (config, why) => {
    const error = errorOf(() => checkMcpToolReference({ capability: { name: 'x', config }, servers: rules.mcpServers }));
    expect(error.code).toBe('MCP_SERVER_UNKNOWN');
    expect(error.message).toContain(why);
  });

  it('says so when no server is registered at all', () => {
    expect(errorOf(() => checkMcpToolReference({ capability: { name: 'x', config: { server: 'files' } }, servers: [] })).message).toBe(
      'MCP tool "x": no MCP server named "files" is registered (no MCP servers are registered on this server)',
    );
  });

  it('refuses a non-string remote tool name', () => {
    expect(errorOf(() => checkMcpToolReference({ capability: { name: 'x', config: { server: 'files', tool: 3 } }, servers: rules.mcpServers })).code).toBe('VALIDATION_FAILED');
  });
});

describe('checkCapsuleModel', () => {
  it.each(['openai:gpt-4o-mini', 'anthropic:claude-3-5-haiku-20241022', 'openai-compatible:meta-llama/Llama-3.1-8B-Instruct', 'local:gemma-3-270m-q4_k_m', 'local:my-model.gguf'])(
    'accepts %s',
    (spec) => expect(accepted(() => checkCapsuleModel({ spec }))).toBe(true),
  );

  it.each([
    'local:/etc/hostname', 'local:../x', 'local:..', 'local:a/b', 'local:a\\b', 'local:', 'local:~/m', 'local:.hidden', 'local:a..b',
    'scripted:/etc/passwd', 'scripted:relative.json', 'file:/etc/passwd', 'llama:x', '/etc/passwd', 'openai:', 'openai:a b', 'openai:../../x\n',
  ])('refuses %j with a message that names the field and quotes nothing', (spec) => {
    const error = errorOf(() => checkCapsuleModel({ spec, field: 'allowed_models[2]' }));
    expect(error.code).toBe('MODEL_NOT_ALLOWED');
    expect(error.message.startsWith('allowed_models[2]: ')).toBe(true);
    const value = spec.slice(spec.indexOf(':') + 1);
    if (value.length > 2) expect(error.message).not.toContain(value);
    expect(error.message).not.toMatch(/etc|passwd|hostname|exist|found|readable|root/);
  });

  it('accepts scripted models only when the operator allows them', () => {
    expect(errorOf(() => checkCapsuleModel({ spec: 'scripted:/tmp/s.json' })).message).toBe('model: scripted models are not enabled on this server (SOMA_ALLOW_SCRIPTED_MODELS)');
    expect(accepted(() => checkCapsuleModel({ spec: 'scripted:/tmp/s.json', allowScripted: true }))).toBe(true);
    expect(errorOf(() => checkCapsuleModel({ spec: 'environment:/tmp/world.json' })).message).toBe('model: environment models are not enabled on this server (SOMA_ALLOW_SCRIPTED_MODELS)');
    expect(accepted(() => checkCapsuleModel({ spec: 'environment:/tmp/world.json', allowScripted: true }))).toBe(true);
    expect(errorOf(() => checkCapsuleModel({ spec: 'environment:', allowScripted: true })).code).toBe('MODEL_NOT_ALLOWED');
  });

  it('localModelName is the catalogue name, or undefined for anything path-like', () => {
    expect(localModelName('local:gemma-3-270m-q4_k_m')).toBe('gemma-3-270m-q4_k_m');
    expect(localModelName('local:gemma.gguf')).toBe('gemma');
    expect(localModelName('local:/models/gemma.gguf')).toBeUndefined();
    expect(localModelName('openai:x')).toBeUndefined();
  });
});

describe('admitCapsuleInput', () => {
  it('checks the model, every allowed model and every MCP tool; built-in tools pass through', () => {
    expect(accepted(() => admitCapsuleInput(
        { model: 'openai:gpt-4o', allowed_models: ['local:gemma'], tools: [{ name: 'calculator' }, { name: 'echo', kind: 'mcp', config: { server: 'files' } }] },
        rules,
      ),
    )).toBe(true);
    expect(accepted(() => admitCapsuleInput({ model: null }, rules))).toBe(true);
    expect(errorOf(() => admitCapsuleInput({ allowed_models: ['openai:a', 'local:/etc/hostname'] }, rules)).message).toMatch(/^allowed_models\[1\]: /);
    expect(errorOf(() => admitCapsuleInput({ tools: [{ name: 'echo', kind: 'mcp', config: { server: { transport: 'http', url: 'http://127.0.0.1' } } }] }, rules)).code).toBe(
      'MCP_SERVER_UNKNOWN',
    );
    expect(errorOf(() => admitCapsuleInput({ model: 'scripted:/x' }, rules)).code).toBe('MODEL_NOT_ALLOWED');
    expect(accepted(() => admitCapsuleInput({ model: 'scripted:/x' }, { ...rules, allowScriptedModels: true }))).toBe(true);
  });
});
