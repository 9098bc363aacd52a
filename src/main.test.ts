import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { redactedLogPaths } from './main.js';

describe('the process logger', () => {
  it('censors capability config, headers and key-like fields', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _encoding, done) => void (lines.push(String(chunk)), done()) });
    const log = pino({ redact: { paths: redactedLogPaths, censor: '***' } }, sink);
    log.warn({ capability: { name: 'search', config: { headers: { authorization: 'Bearer sk-1' } } } }, 'a');
    log.warn({ config: { headers: { 'x-api-key': 'sk-2' }, env: { TOKEN: 'sk-3' }, url: 'https://example.org' } }, 'b');
    log.warn({ req: { headers: { authorization: 'Bearer sk-4', cookie: 'sid=sk-5' } }, token: 'sk-6', details: { api_key: 'sk-7' } }, 'c');
    log.warn({ tools: [{ name: 'x', config: { password: 'sk-8' } }] }, 'd');
    const text = lines.join('');
    expect(text).not.toMatch(/sk-\d/);
    expect(text).toContain('https://example.org');
    expect(lines).toHaveLength(4);
  });
});
