import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { mountStudio } from './studio.js';

function builtStudio(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-studio-build-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><html><head><title>Soma Studio</title></head><body><div id="app"></div></body></html>');
  writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log("studio")');
  writeFileSync(path.join(dir, 'assets', 'index-abc123.css'), 'body{}');
  writeFileSync(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(path.join(dir, 'secret.txt'), 'not for the web');
  return dir;
}

function app(options: Parameters<typeof mountStudio>[1]) {
  const hono = new Hono();
  hono.get('/docs', (c) => c.text('docs'));
  hono.get('/v1/capsules', (c) => c.json({ capsules: [] }));
  mountStudio(hono, options);
  hono.get('/openapi.json', (c) => c.json({ openapi: '3.1.0' }));
  hono.notFound((c) => c.json({ error: { code: 'NOT_FOUND', message: 'no route' } }, 404));
  return hono;
}

describe('mountStudio', () => {
  const dir = builtStudio();
  const studio = app({ dir });

  it('answers / and every client route with the app, never cached, with a same-origin CSP', async () => {
    for (const route of ['/', '/signin', '/chat', '/chat/0b9c', '/trace/abc', '/learning/x', '/replay/y', '/capsules/new', '/events', '/evals', '/approvals']) {
      const response = await studio.request(route);
      expect(response.status, route).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/html');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(await response.text()).toContain('<div id="app">');
    }
  });

  it('serves hashed assets with their content type, cached for a year', async () => {
    const js = await studio.request('/assets/index-abc123.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(await js.text()).toContain('studio');
    expect((await studio.request('/assets/index-abc123.css')).headers.get('content-type')).toContain('text/css');
    expect((await studio.request('/favicon.svg')).headers.get('content-type')).toBe('image/svg+xml');
  });

  it('leaves the API, the docs and unknown paths alone', async () => {
    expect(await (await studio.request('/docs')).text()).toBe('docs');
    expect(await (await studio.request('/v1/capsules')).json()).toEqual({ capsules: [] });
    expect(await (await studio.request('/openapi.json')).json()).toEqual({ openapi: '3.1.0' });
    const unknown = await studio.request('/v1/nothing');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    expect((await studio.request('/chatty')).status).toBe(404);
  });

  it('serves nothing outside the built assets', async () => {
    for (const route of ['/assets/missing.js', '/assets/..%2Fsecret.txt', '/assets/%2e%2e%2fsecret.txt', '/secret.txt', '/assets/.hidden.js', '/assets/index-abc123.exe']) {
      const response = await studio.request(route);
      expect(response.status, route).toBe(404);
      expect(await response.text()).not.toContain('not for the web');
    }
  });

  it('tells the operator how to build the Studio when the build is missing', async () => {
    const missing = app({ dir: path.join(dir, 'nowhere') });
    const response = await missing.request('/');
    expect(response.status).toBe(503);
    const page = await response.text();
    expect(page).toContain('Soma Studio is not built');
    expect(page).toContain('npm install');
    expect((await missing.request('/docs')).status).toBe(200);
  });

  it('names the embedded API key file on the sign-in page, escaped', async () => {
    const withKey = app({ dir, apiKeyFile: './data/api-key"<x>' });
    const html = await (await withKey.request('/signin')).text();
    expect(html).toContain('<meta name="soma-api-key-file" content="./data/api-key&quot;&lt;x>">');
    expect(await (await studio.request('/signin')).text()).not.toContain('soma-api-key-file');
  });
});
