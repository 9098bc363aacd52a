/**
 * How CI installs the dependencies (scripts/npm-ci.sh, run by .ci/run): exactly the committed lock.
 * The only drift tolerated is optional packages for other platforms that the registry serves since
 * the lock was written (scripts/complete-lock.mjs completes them in a copy of the lock); a lock out of
 * date with package.json fails. The CI path runs the real npm against a registry this test serves on
 * loopback (no network).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const scripts = path.resolve('scripts');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'soma-npm-ci-'));
/** This machine's platform as package names spell it (linux-x64 in CI); win32-x64 is another one. */
const here = `${process.platform}-${process.arch}`;
const foreign = 'win32-x64';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking the event loop (the registry answers from this process). */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

type Lock = { packages: Record<string, Record<string, unknown>> } & Record<string, unknown>;
const readLock = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'package-lock.json'), 'utf8')) as Lock;

describe('scripts/complete-lock.mjs', () => {
  const lock = {
    name: 'app',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'app', version: '1.0.0', dependencies: { nested: '2.0.0', tool: '1.0.0' } },
      'node_modules/nested': { version: '2.0.0', integrity: 'sha512-bmVzdGVk', optionalDependencies: { '@nested/core-win32-arm64-msvc': '2.0.0' } },
      'node_modules/tool': {
        version: '1.0.0',
        integrity: 'sha512-dG9vbA==',
        license: 'MIT',
        optionalDependencies: {
          'tool-android-arm64': '1.0.0', // listed below: left as it is
          'tool-darwin-arm64': '1.0.0', // another platform, missing: added
          [`tool-${foreign}`]: '1.0.0', // another platform, missing: added
          [`tool-${here}`]: '1.0.0', // this platform's, missing: npm must install it, so it is not made up
          'tool-helper': '1.0.0', // no platform in the name: not made up
          'tool-freebsd-x64': '^1.0.0', // a range, not a version: not made up
        },
      },
      'node_modules/tool-android-arm64': { version: '1.0.0', integrity: 'sha512-YW5kcm9pZA==', optional: true, os: ['android'], cpu: ['arm64'] },
    },
  };
  const added = {
    'node_modules/@nested/core-win32-arm64-msvc': { version: '2.0.0', optional: true, os: ['win32'], cpu: ['arm64'] },
    'node_modules/tool-darwin-arm64': { version: '1.0.0', license: 'MIT', optional: true, os: ['darwin'], cpu: ['arm64'] },
    [`node_modules/tool-${foreign}`]: { version: '1.0.0', license: 'MIT', optional: true, os: ['win32'], cpu: ['x64'] },
  };

  it("adds only the missing optional packages of other platforms and leaves every other entry as it was; --check only reports", async () => {
    const dir = mkdtempSync(path.join(tmp, 'lock-'));
    const file = path.join(dir, 'package-lock.json');
    const text = `${JSON.stringify(lock, null, 2)}\n`;
    writeFileSync(file, text);

    const check = await run('node', [path.join(scripts, 'complete-lock.mjs'), '--check', file], dir);
    expect(check.code).toBe(1);
    expect(check.stdout.trim().split('\n').sort()).toEqual(['missing @nested/core-win32-arm64-msvc@2.0.0', 'missing tool-darwin-arm64@1.0.0', `missing tool-${foreign}@1.0.0`]);
    expect(readFileSync(file, 'utf8')).toBe(text);

    const complete = await run('node', [path.join(scripts, 'complete-lock.mjs'), file], dir);
    expect(complete.code).toBe(0);
    expect(complete.stdout.trim().split('\n').sort()).toEqual(['added @nested/core-win32-arm64-msvc@2.0.0', 'added tool-darwin-arm64@1.0.0', `added tool-${foreign}@1.0.0`]);
    const after = readLock(dir);
    const { packages, ...rest } = after;
    const { packages: before, ...restBefore } = lock;
    expect(rest).toEqual(restBefore);
    // Every entry that was there is unchanged and in the same order; the rest is exactly the additions.
    expect(Object.keys(packages).filter((key) => key in before)).toEqual(Object.keys(before));
    for (const [key, entry] of Object.entries(before)) expect(packages[key]).toEqual(entry);
    expect(Object.fromEntries(Object.entries(packages).filter(([key]) => !(key in before)))).toEqual(added);
    expect(Object.keys(packages)).toEqual(['', ...Object.keys(packages).slice(1).sort()]);

    // A completed lock is complete: nothing more to add, nothing rewritten.
    const completed = readFileSync(file, 'utf8');
    expect((await run('node', [path.join(scripts, 'complete-lock.mjs'), '--check', file], dir)).code).toBe(0);
    expect((await run('node', [path.join(scripts, 'complete-lock.mjs'), file], dir)).stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe(completed);
  });
});

interface Manifest {
  name: string;
  version: string;
  os?: string[];
  cpu?: string[];
  optionalDependencies?: Record<string, string>;
}

/** An npm registry on loopback with one version of each package; `served` says which ones it answers for (others are 404). */
async function localRegistry(packages: Manifest[]) {
  const tarballs = new Map<string, Buffer>();
  for (const manifest of packages) {
    const dir = mkdtempSync(path.join(tmp, 'package-'));
    mkdirSync(path.join(dir, 'package'));
    writeFileSync(path.join(dir, 'package', 'package.json'), JSON.stringify(manifest));
    execFileSync('tar', ['-czf', path.join(dir, 'package.tgz'), '-C', dir, 'package']);
    tarballs.set(manifest.name, readFileSync(path.join(dir, 'package.tgz')));
  }
  const served = new Set<string>();
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    const url = decodeURIComponent(request.url ?? '/');
    requests.push(url);
    const [, name, tarball] = /^\/([^/]+)(\/-\/.*)?$/.exec(url) ?? [];
    const manifest = packages.find((p) => p.name === name);
    if (!manifest || !served.has(manifest.name)) return void response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
    const bytes = tarballs.get(manifest.name)!;
    if (tarball) return void response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
    const integrity = `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
    const tarballUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${manifest.name}/-/${manifest.name}-${manifest.version}.tgz`;
    const version = { ...manifest, dist: { tarball: tarballUrl, integrity } };
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: manifest.name, 'dist-tags': { latest: manifest.version }, versions: { [manifest.version]: version } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    served,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe('the CI install (scripts/npm-ci.sh) against a registry that serves more than when the lock was written', { timeout: 180_000 }, () => {
  let registry: Awaited<ReturnType<typeof localRegistry>>;
  /** package.json and the lock written while the registry did not serve the other platform's package. */
  let base: string;
  let npmEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    registry = await localRegistry([
      { name: 'tool', version: '1.0.0', optionalDependencies: { [`tool-${here}`]: '1.0.0', [`tool-${foreign}`]: '1.0.0' } },
      { name: `tool-${here}`, version: '1.0.0', os: [process.platform], cpu: [process.arch] },
      { name: `tool-${foreign}`, version: '1.0.0', os: ['win32'], cpu: ['x64'] },
      { name: 'extra', version: '1.0.0' },
    ]);
    const userconfig = path.join(tmp, 'npmrc');
    writeFileSync(userconfig, '');
    // Only this registry and a cache of the test's own; nothing inherited from an npm that runs the tests.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
    const npm = (cache: string) => ({
      ...inherited,
      npm_config_registry: registry.url,
      npm_config_cache: path.join(tmp, cache),
      npm_config_userconfig: userconfig,
      npm_config_update_notifier: 'false',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
    });

    registry.served.add('tool').add(`tool-${here}`).add('extra');
    base = mkdtempSync(path.join(tmp, 'base-'));
    writeFileSync(path.join(base, 'package.json'), `${JSON.stringify({ name: 'app', version: '1.0.0', private: true, dependencies: { tool: '1.0.0' } }, null, 2)}\n`);
    const locked = await run('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund'], base, npm('cache-yesterday'));
    expect(locked.code, locked.stderr).toBe(0);
    expect(Object.keys(readLock(base).packages)).toEqual(['', 'node_modules/tool', `node_modules/tool-${here}`]);

    registry.served.add(`tool-${foreign}`); // today
    npmEnv = npm('cache-today');
  });
  afterAll(async () => registry?.close());

  /** A committed checkout of the base project, changed by `edit` before the commit. */
  async function checkout(edit: (dir: string) => void = () => undefined) {
    const dir = mkdtempSync(path.join(tmp, 'checkout-'));
    cpSync(path.join(base, 'package.json'), path.join(dir, 'package.json'));
    cpSync(path.join(base, 'package-lock.json'), path.join(dir, 'package-lock.json'));
    writeFileSync(path.join(dir, '.gitignore'), 'node_modules/\n.cache/\n');
    edit(dir);
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, stdio: 'pipe' });
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'fixture');
    return { dir, lock: readFileSync(path.join(dir, 'package-lock.json'), 'utf8'), status: () => execFileSync('git', ['status', '--porcelain'], { cwd: dir }).toString() };
  }
  const install = (dir: string) => run('bash', [path.join(scripts, 'npm-ci.sh')], dir, npmEnv);

  it("installs from the committed lock although npm calls it out of sync for the other platform's new package, and leaves the checkout clean", async () => {
    const project = await checkout();
    const result = await install(project.dir);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    // npm's first verdict, then the completed copy.
    expect(result.stdout).toContain(`Missing: tool-${foreign}@1.0.0 from lock file`);
    expect(result.stdout).toContain('installed from the completed copy');
    expect(existsSync(path.join(project.dir, 'node_modules/tool/package.json'))).toBe(true);
    expect(existsSync(path.join(project.dir, `node_modules/tool-${here}/package.json`))).toBe(true);
    expect(existsSync(path.join(project.dir, `node_modules/tool-${foreign}`))).toBe(false);
    expect(registry.requests).not.toContain(`/tool-${foreign}/-/tool-${foreign}-1.0.0.tgz`);
    expect(readFileSync(path.join(project.dir, 'package-lock.json'), 'utf8')).toBe(project.lock);
    expect(project.status()).toBe('');
  });

  it('fails when package.json has a dependency the lock lacks, and puts the committed lock back', async () => {
    const project = await checkout((dir) => {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
      manifest.dependencies.extra = '1.0.0';
      writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    });
    const result = await install(project.dir);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain('Missing: extra@1.0.0 from lock file');
    expect(result.stderr).toContain('ci: npm ci rejects the committed lock for more than optional foreign-platform packages: the lock is out of date');
    expect(existsSync(path.join(project.dir, 'node_modules/extra'))).toBe(false);
    expect(readFileSync(path.join(project.dir, 'package-lock.json'), 'utf8')).toBe(project.lock);
    expect(project.status()).toBe('');
  });

  it("fails when the lock lacks this platform's optional package (only other platforms' are completed)", async () => {
    const project = await checkout((dir) => {
      const lock = readLock(dir);
      delete lock.packages[`node_modules/tool-${here}`];
      writeFileSync(path.join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
    });
    const result = await install(project.dir);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain(`Missing: tool-${here}@1.0.0 from lock file`);
    expect(result.stderr).toContain('the lock is out of date');
    expect(readFileSync(path.join(project.dir, 'package-lock.json'), 'utf8')).toBe(project.lock);
    expect(project.status()).toBe('');
  });
});
