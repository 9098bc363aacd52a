import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskCapabilityConfig, maskedSecret, restoreMaskedSecrets } from './mask-secrets.js';

/** A secret nobody would write by chance: shows up only where the generator put it. */
const secretValue = fc.stringMatching(/^[A-Za-z0-9+/=_-]{6,24}$/).map((s) => `SECRET-${s}`);
const plainKey = fc.constantFrom('url', 'allowed_hosts', 'max_bytes', 'server', 'tool', 'args', 'command', 'name', 'region');
const secretKey = fc.constantFrom('headers', 'env', 'Authorization', 'api_key', 'apiKey', 'X-API-KEY', 'client_secret', 'token', 'refresh_token', 'password', 'PASSWORD_FILE', 'privateKey');
const plainLeaf = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constantFrom('https://example.org', 'files', 'echo', 'GET'));

/** A config tree where secrets sit only under secret keys (at any depth); returns the secrets placed. */
const configWithSecrets = fc.letrec<{ node: { value: unknown; secrets: string[] }; secretNode: { value: unknown; secrets: string[] } }>((tie) => ({
  // Anything under a secret key: a secret leaf, an object/array of secret nodes.
  secretNode: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    secretValue.map((s) => ({ value: s, secrets: [s] })),
    fc.dictionary(fc.oneof(plainKey, secretKey), tie('secretNode'), { maxKeys: 3 }).map((entries) => ({
      value: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, v.value])),
      secrets: Object.values(entries).flatMap((v) => v.secrets),
    })),
    fc.array(tie('secretNode'), { maxLength: 3 }).map((items) => ({ value: items.map((i) => i.value), secrets: items.flatMap((i) => i.secrets) })),
  ),
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    plainLeaf.map((value) => ({ value, secrets: [] })),
    fc
      .tuple(fc.dictionary(plainKey, tie('node'), { maxKeys: 3 }), fc.dictionary(secretKey, tie('secretNode'), { maxKeys: 2 }))
      .map(([plain, secret]) => ({
        value: { ...Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, v.value])), ...Object.fromEntries(Object.entries(secret).map(([k, v]) => [k, v.value])) },
        secrets: [...Object.values(plain), ...Object.values(secret)].flatMap((v) => v.secrets),
      })),
    fc.array(tie('node'), { maxLength: 3 }).map((items) => ({ value: items.map((i) => i.value), secrets: items.flatMap((i) => i.secrets) })),
  ),
}));

describe('maskCapabilityConfig', () => {
  it('masks headers, env and secret-named keys at any depth, keeping everything else', () => {
    const config = {
      server: 'files',
      url: 'https://api.example.org',
      headers: { Authorization: 'Bearer abc', 'X-Trace': 'visible-but-in-headers' },
      env: { PATH: '/usr/bin', GITHUB_TOKEN: 'ghp_x' },
      nested: { deeper: [{ api_key: 'k1', region: 'eu' }], clientSecret: { value: 's' } },
      max_bytes: 1000,
      allowed_hosts: ['example.org'],
    };
    expect(maskCapabilityConfig(config)).toEqual({
      server: 'files',
      url: 'https://api.example.org',
      headers: { Authorization: maskedSecret, 'X-Trace': maskedSecret },
      env: { PATH: maskedSecret, GITHUB_TOKEN: maskedSecret },
      nested: { deeper: [{ api_key: maskedSecret, region: 'eu' }], clientSecret: { value: maskedSecret } },
      max_bytes: 1000,
      allowed_hosts: ['example.org'],
    });
    expect(config.headers.Authorization).toBe('Bearer abc');
  });

  it('property: no secret value survives, and non-secret values are unchanged', () => {
    fc.assert(
      fc.property(configWithSecrets.node, ({ value, secrets }) => {
        const shown = JSON.stringify(maskCapabilityConfig(value));
        for (const secret of secrets) expect(shown).not.toContain(secret);
        // Removing the secrets from the input gives the same picture as masking them.
        expect(JSON.stringify(maskCapabilityConfig(JSON.parse(JSON.stringify(value).replaceAll(/"SECRET-[A-Za-z0-9+/=_-]*"/g, '"x"'))))).toBe(shown);
      }),
      { numRuns: 300 },
    );
  });

  it('property: a secret under a secret key is masked wherever it sits', () => {
    fc.assert(
      fc.property(secretKey, secretValue, fc.array(plainKey, { maxLength: 4 }), (key, secret, path) => {
        let config: unknown = { [key]: secret };
        for (const segment of path) config = { [segment]: config };
        expect(JSON.stringify(maskCapabilityConfig(config))).not.toContain(secret);
      }),
    );
  });

  it('restoreMaskedSecrets keeps stored secrets where the client sent "***" back, and takes new values', () => {
    const stored = { url: 'https://a', headers: { Authorization: 'Bearer old', 'X-Other': 'o' }, token: 't-old' };
    const incoming = { url: 'https://b', headers: { Authorization: maskedSecret, 'X-New': 'n' }, token: 't-new' };
    expect(restoreMaskedSecrets(incoming, stored)).toEqual({ url: 'https://b', headers: { Authorization: 'Bearer old', 'X-New': 'n' }, token: 't-new' });
    expect(restoreMaskedSecrets({ url: maskedSecret }, { url: 'kept?' })).toEqual({ url: maskedSecret });
    fc.assert(
      fc.property(configWithSecrets.node, ({ value }) => {
        expect(restoreMaskedSecrets(maskCapabilityConfig(value), value)).toEqual(value);
      }),
      { numRuns: 200 },
    );
  });
});
