import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-config-'));
const file = (name: string, text: string) => {
  const target = path.join(dir, name);
  writeFileSync(target, text);
  return target;
};
const messageOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a configuration error');
};

describe('configuration of the tenant boundary (SPEC §13.1)', () => {
  it('defaults: no MCP servers, no egress exceptions, no scripted capsule models, 2 local models, 60 turns a minute, unlimited tokens', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ mcpServers: {}, egressAllow: [], allowScriptedModels: false, localModelCache: 2, quotas: { turnsPerMinute: 60 } });
    expect(config.quotas.tokensPerDay).toBeUndefined();
  });

  it('reads the MCP server registry file', () => {
    const registry = file(
      'servers.json',
      JSON.stringify({
        files: { transport: 'stdio', command: 'node', args: ['server.js'], env: { TOKEN: 't' }, cwd: '/srv' },
        search: { transport: 'http', url: 'https://mcp.example.org/mcp', headers: { authorization: 'Bearer x' } },
      }),
    );
    expect(loadConfig({ SOMA_MCP_SERVERS: registry }).mcpServers).toEqual({
      files: { transport: 'stdio', command: 'node', args: ['server.js'], env: { TOKEN: 't' }, cwd: '/srv' },
      search: { transport: 'http', url: 'https://mcp.example.org/mcp', headers: { authorization: 'Bearer x' } },
    });
  });

  it.each([
    ['missing file', () => path.join(dir, 'nope.json'), /^invalid configuration: SOMA_MCP_SERVERS \(.*nope\.json\): cannot read the file \(ENOENT\)$/],
    ['not JSON', () => file('bad.json', 'root:x:0:0:secret'), /SOMA_MCP_SERVERS \(.*\): the file is not valid JSON$/],
    ['unknown transport', () => file('ws.json', '{"a": {"transport": "ws", "url": "ws://x"}}'), /SOMA_MCP_SERVERS .*: server "a" transport: /],
    ['no command', () => file('nocmd.json', '{"a": {"transport": "stdio"}}'), /: server "a" command: /],
    ['bad URL', () => file('url.json', '{"a": {"transport": "http", "url": "file:///etc/passwd"}}'), /: server "a" url: must be an http or https URL$/],
    ['bad name', () => file('name.json', '{"../x": {"transport": "stdio", "command": "x"}}'), /: server names are letters, digits and \. _ - \(at most 64\), not "\.\.\/x"$/],
    ['unknown field', () => file('extra.json', '{"a": {"transport": "stdio", "command": "x", "shell": true}}'), /: server "a": Unrecognized key/],
  ])('a bad registry file (%s) is one clear line that never quotes the file', (_label, make, expected) => {
    const message = messageOf({ SOMA_MCP_SERVERS: make() });
    expect(message).toMatch(expected);
    expect(message).not.toContain('\n');
    expect(message).not.toMatch(/root:x|secret/);
  });

  it('SOMA_EGRESS_ALLOW takes host names, addresses and CIDRs', () => {
    expect(loadConfig({ SOMA_EGRESS_ALLOW: '127.0.0.1, localhost,10.0.0.0/8,[::1],fd00::/8,Internal.Example.org' }).egressAllow).toEqual([
      '127.0.0.1', 'localhost', '10.0.0.0/8', '[::1]', 'fd00::/8', 'internal.example.org',
    ]);
    expect(messageOf({ SOMA_EGRESS_ALLOW: '127.0.0.1,http://x,10.0.0.0/33' })).toBe(
      'invalid configuration: SOMA_EGRESS_ALLOW must be a comma-separated list of host names, IP addresses and CIDR ranges (not: http://x, 10.0.0.0/33)',
    );
  });

  it('scripted capsule models, the local model cache and the quotas', () => {
    const config = loadConfig({ SOMA_ALLOW_SCRIPTED_MODELS: 'true', SOMA_LOCAL_MODEL_CACHE: '3', SOMA_TENANT_TURNS_PER_MINUTE: '0', SOMA_TENANT_TOKENS_PER_DAY: '100000' });
    expect(config).toMatchObject({ allowScriptedModels: true, localModelCache: 3, quotas: { turnsPerMinute: undefined, tokensPerDay: 100_000 } });
    expect(messageOf({ SOMA_ALLOW_SCRIPTED_MODELS: 'maybe', SOMA_LOCAL_MODEL_CACHE: '0', SOMA_TENANT_TURNS_PER_MINUTE: '-1' })).toBe(
      'invalid configuration: SOMA_ALLOW_SCRIPTED_MODELS must be true or false (got "maybe"); SOMA_LOCAL_MODEL_CACHE must be a whole number from 1 to 16 (got "0"); SOMA_TENANT_TURNS_PER_MINUTE must be a whole number from 0 to 1000000 (got "-1")',
    );
  });
});
