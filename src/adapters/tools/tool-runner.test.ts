import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executions, newCounterFile, startHttpCounterServer, stdioServer } from '../../../test/fixtures/mcp-counter-server.helpers.js';
import type { ToolCall } from '../../ports/chat-model.js';
import type { CapabilityConfig, PolicyEngine, ToolContext, ToolOutcome, ToolPolicy } from '../../ports/tools.js';
import { createEgressPolicy, type EgressPolicy } from '../egress/index.js';
import { createOpaHttpPolicy, createOpaWasmPolicy } from '../policy/index.js';
import { createMcpServerRegistry, type McpServerConfig } from './mcp/index.js';
import { createToolRunner, type ToolMetricsSink, type ToolRunnerOptions } from './tool-runner.js';

let policy: PolicyEngine;
/** The operator lets tools reach the loopback test servers (SOMA_EGRESS_ALLOW=127.0.0.1). */
let egress: EgressPolicy;
let server: Server;
let base: string;
/** Behaviour of the local HTTP server that http_fetch calls. */
const web = { inFlight: 0, maxInFlight: 0, requests: 0, failing: false, aborted: [] as string[] };

beforeAll(async () => {
  policy = await createOpaWasmPolicy();
  egress = createEgressPolicy({ allow: ['127.0.0.1'] });
  server = createServer((request, response) => {
    web.requests += 1;
    const url = new URL(request.url!, 'http://x');
    if (url.pathname === '/flaky' && web.failing) return void request.socket.destroy();
    if (url.pathname === '/slow') {
      web.inFlight += 1;
      web.maxInFlight = Math.max(web.maxInFlight, web.inFlight);
      const timer = setTimeout(() => {
        web.inFlight -= 1;
        response.writeHead(200, { 'content-type': 'text/plain' }).end(`slow ${url.searchParams.get('i')}`);
      }, Number(url.searchParams.get('ms') ?? 100));
      response.on('close', () => {
        if (!response.writableFinished) {
          clearTimeout(timer);
          web.inFlight -= 1;
          web.aborted.push(request.url!);
        }
      });
      return;
    }
    if (url.pathname === '/big') return void response.writeHead(200, { 'content-type': 'text/plain' }).end('z'.repeat(50_000));
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await egress.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function fakeClock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

function recordingMetrics() {
  const calls: [string, string][] = [];
  const decisions: string[] = [];
  const latencies: [string, number][] = [];
  const sink: ToolMetricsSink = {
    countToolCall: (tool, outcome) => void calls.push([tool, outcome]),
    countPolicyDecision: (decision) => void decisions.push(decision),
    observeToolLatency: (tool, seconds) => void latencies.push([tool, seconds]),
  };
  return { sink, calls, decisions, latencies };
}

const context = (overrides: Partial<ToolContext> = {}): ToolContext => ({
  tenantId: 'tenant-1', capsuleId: 'capsule-1', userId: 'user-1', turnId: 'turn-1', iteration: 0, signal: new AbortController().signal, ...overrides,
});
let nextId = 0;
const call = (name: string, args: unknown): ToolCall => ({ callId: `call-${(nextId += 1)}`, name, args });
const builtin = (name: string, extra: Partial<CapabilityConfig> = {}): CapabilityConfig => ({ name, kind: 'builtin', enabled: true, ...extra });
const fetchCapability = (extra: Partial<CapabilityConfig> = {}) => builtin('http_fetch', { config: { allowed_hosts: ['127.0.0.1'] }, ...extra });

function runner(options: Partial<ToolRunnerOptions> = {}) {
  return createToolRunner({ policy, recallFor: () => async () => [], egress, ...options });
}

async function loadAndRun(
  capabilities: CapabilityConfig[],
  calls: ToolCall[],
  { toolPolicy = {}, options = {}, capsuleId = 'capsule-1', approvedCalls }: { toolPolicy?: ToolPolicy; options?: Partial<ToolRunnerOptions>; capsuleId?: string; approvedCalls?: Map<string, string> } = {},
) {
  const tools = await runner(options).load({ tenantId: 'tenant-1', capsuleId, capabilities, toolPolicy });
  try {
    return await tools.run(calls, { ...context({ capsuleId }), ...(approvedCalls ? { approvedCalls } : {}) });
  } finally {
    await tools.close();
  }
}

describe('tool runner: built-in tools under policy', () => {
  it('calculator 6*7 = 42, with latency and the policy decision on the outcome', async () => {
    const metrics = recordingMetrics();
    const [outcome] = await loadAndRun([builtin('calculator')], [call('calculator', { expression: '6*7' })], { options: { metrics: metrics.sink } });
    expect(outcome).toMatchObject({ ok: true, outcome: 'ok', result: { result: 42 }, name: 'calculator', policy: { allow: true, engine: 'opa-wasm' } });
    expect(outcome!.latency_ms).toBeGreaterThanOrEqual(0);
    expect(metrics.calls).toEqual([['calculator', 'ok']]);
    expect(metrics.decisions).toEqual(['allow']);
    expect(metrics.latencies).toHaveLength(1);
  });

  it('exposes each enabled tool with its JSON schema, and skips disabled ones', async () => {
    const tools = await runner().load({
      tenantId: 't', capsuleId: 'c', toolPolicy: {},
      capabilities: [builtin('calculator'), builtin('current_time'), builtin('memory_search'), fetchCapability(), builtin('calculator2', { enabled: false })],
    });
    expect(tools.definitions.map((definition) => definition.name)).toEqual(['calculator', 'current_time', 'memory_search', 'http_fetch']);
    expect(tools.definitions.every((definition) => definition.inputSchema.type === 'object' && definition.description.length > 0)).toBe(true);
    await tools.close();
  });

  it('an unknown built-in name is a clear error at load', async () => {
    await expect(runner().load({ tenantId: 't', capsuleId: 'c', toolPolicy: {}, capabilities: [builtin('shell')] })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'unknown built-in tool "shell" (built-in tools: calculator, current_time, memory_search, http_fetch)',
    });
  });

  it('a call to a tool the capsule does not have is unknown_tool', async () => {
    const metrics = recordingMetrics();
    const [outcome] = await loadAndRun([builtin('calculator')], [call('rm_rf', {})], { options: { metrics: metrics.sink } });
    expect(outcome).toMatchObject({ ok: false, outcome: 'unknown_tool', error: 'unknown tool "rm_rf"; available tools: calculator' });
    expect(metrics.calls).toEqual([['(unknown)', 'unknown_tool']]);
  });

  it('invalid arguments are refused with the validation message and never executed', async () => {
    const before = web.requests;
    const outcomes = await loadAndRun(
      [builtin('calculator'), fetchCapability()],
      [call('calculator', { expression: 42 }), call('calculator', {}), call('http_fetch', { url: `${base}/ok`, method: 'POST' })],
    );
    expect(outcomes.map((outcome) => [outcome.outcome, outcome.error])).toEqual([
      ['invalid_args', 'invalid arguments for calculator: args/expression must be string'],
      ['invalid_args', "invalid arguments for calculator: args must have required property 'expression'"],
      ['invalid_args', 'invalid arguments for http_fetch: args must NOT have additional properties'],
    ]);
    expect(web.requests).toBe(before);
  });

  it('memory_search recalls from the capsule it was loaded for', async () => {
    const scopes: unknown[] = [];
    const [outcome] = await loadAndRun([builtin('memory_search')], [call('memory_search', { query: 'tea', top_k: 2 })], {
      options: { recallFor: (scope) => async (query) => (scopes.push({ scope, query }), [{ key: 'k', content: 'likes tea', score: 1 }]) },
    });
    expect(outcome).toMatchObject({ ok: true, result: { results: [{ key: 'k', content: 'likes tea', score: 1 }] } });
    expect(scopes).toEqual([{ scope: { tenantId: 'tenant-1', capsuleId: 'capsule-1' }, query: { query: 'tea', top_k: 2 } }]);
  });

  it('caps a large result with a marker', async () => {
    const [outcome] = await loadAndRun([fetchCapability()], [call('http_fetch', { url: `${base}/big` })], { options: { maxResultBytes: 2_000 } });
    expect(outcome!.ok).toBe(true);
    expect(typeof outcome!.result).toBe('string');
    expect(Buffer.byteLength(JSON.stringify(outcome!.result))).toBeLessThanOrEqual(2_000);
    expect(outcome!.result as string).toMatch(/…\[truncated: result was \d+ bytes\]$/);
  });

  it('http_fetch refuses a host that is not allow-listed (an error outcome, nothing sent)', async () => {
    const before = web.requests;
    const [outcome] = await loadAndRun([builtin('http_fetch', { config: { allowed_hosts: ['example.org'] } })], [call('http_fetch', { url: `${base}/ok` })]);
    expect(outcome).toMatchObject({ ok: false, outcome: 'error' });
    expect(outcome!.error).toContain('is not on the allow-list of http_fetch');
    expect(web.requests).toBe(before);
  });
});

describe('tool runner: policy', () => {
  it('a denied MCP tool never executes and the outcome names the policy', async () => {
    const counterFile = newCounterFile();
    const mcpServers = createMcpServerRegistry({ servers: { counter: stdioServer(counterFile) } });
    const metrics = recordingMetrics();
    try {
      const outcomes = await loadAndRun(
        [
          { name: 'echo', kind: 'mcp', enabled: true, config: { server: 'counter' } },
          { name: 'add', kind: 'mcp', enabled: true, config: { server: 'counter' } },
        ],
        [call('echo', { text: 'secret' }), call('add', { a: 1, b: 2 })],
        { toolPolicy: { denied: ['echo'] }, options: { metrics: metrics.sink, mcpServers } },
      );
      expect(outcomes[0]).toMatchObject({ ok: false, outcome: 'denied', policy: { allow: false, engine: 'opa-wasm' } });
      expect(outcomes[0]!.error).toBe("denied by policy soma.tools: tool echo is denied by the capsule's tool policy");
      expect(outcomes[1]).toMatchObject({ ok: true, result: { sum: 3 } });
      expect(executions(counterFile, 'echo')).toBe(0);
      expect(executions(counterFile, 'add')).toBe(1);
      expect(metrics.decisions.sort()).toEqual(['allow', 'deny']);
    } finally {
      await mcpServers.close();
    }
  });

  it('a call of a capability that requires approval waits for a person, runs once approved, and stays denied when the policy denies it', async () => {
    const capabilities = [builtin('calculator', { requires_approval: true })];
    const calls = [call('calculator', { expression: '1+1' })];
    const [pending] = await loadAndRun(capabilities, calls);
    expect(pending).toMatchObject({ ok: false, outcome: 'awaiting_approval', policy: { allow: true } });
    const [approved] = await loadAndRun(capabilities, calls, { approvedCalls: new Map([[calls[0]!.callId, 'user-2']]) });
    expect(approved).toMatchObject({ ok: true, result: { result: 2 } });
    // Approved by the operator for every call: no person asked.
    const [preapproved] = await loadAndRun(capabilities, calls, { toolPolicy: { approved: ['calculator'] } });
    expect(preapproved).toMatchObject({ ok: true, result: { result: 2 } });
    // A person's approval never overrides a denial; a denied tool is not even asked about.
    for (const approvedCalls of [undefined, new Map([[calls[0]!.callId, 'user-2']])]) {
      const [denied] = await loadAndRun(capabilities, calls, { toolPolicy: { denied: ['calculator'] }, ...(approvedCalls ? { approvedCalls } : {}) });
      expect(denied).toMatchObject({ ok: false, outcome: 'denied' });
    }
  });

  it('with the OPA server unreachable every tool is denied (fail closed)', async () => {
    const unreachable = createOpaHttpPolicy({ url: 'http://127.0.0.1:1', timeoutMs: 1_000 });
    const outcomes = await loadAndRun([builtin('calculator'), builtin('current_time')], [call('calculator', { expression: '1+1' }), call('current_time', {})], {
      options: { policy: unreachable },
    });
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ ok: false, outcome: 'denied', policy: { engine: 'opa-http' } });
      expect(outcome.error).toMatch(/^denied by policy soma\.tools: policy engine unavailable: /);
    }
  });

  it('a policy engine that throws denies', async () => {
    const broken: PolicyEngine = { name: 'broken', decide: async () => { throw new Error('kaput'); } };
    const [outcome] = await loadAndRun([builtin('calculator')], [call('calculator', { expression: '1+1' })], { options: { policy: broken } });
    expect(outcome).toMatchObject({ outcome: 'denied', error: 'denied by policy soma.tools: policy engine unavailable: kaput' });
  });
});

describe('tool runner: circuit breaker, timeout, concurrency', () => {
  it('5 failures open the breaker; the next call is not executed; after 30 s a trial runs and closes it', async () => {
    const clock = fakeClock();
    const shared = runner({ clock });
    const turn = async () => {
      const tools = await shared.load({ tenantId: 'tenant-1', capsuleId: 'breaker-capsule', capabilities: [fetchCapability()], toolPolicy: {} });
      const [outcome] = await tools.run([call('http_fetch', { url: `${base}/flaky` })], context({ capsuleId: 'breaker-capsule' }));
      await tools.close();
      return outcome!;
    };
    web.failing = true;
    const before = web.requests;
    for (let i = 0; i < 5; i += 1) expect((await turn()).outcome).toBe('error');
    expect(web.requests - before).toBe(5);

    const blocked = await turn();
    expect(blocked).toMatchObject({ ok: false, outcome: 'circuit_open' });
    expect(blocked.error).toBe('circuit open for http_fetch after 5 consecutive failures; next try in 30 s');
    expect(web.requests - before).toBe(5);

    // Another capsule's breaker for the same tool is independent.
    const tools = await shared.load({ tenantId: 'tenant-1', capsuleId: 'other-capsule', capabilities: [fetchCapability()], toolPolicy: {} });
    expect((await tools.run([call('http_fetch', { url: `${base}/ok` })], context()))[0]!.outcome).toBe('ok');

    clock.advance(29_000);
    expect((await turn()).outcome).toBe('circuit_open');
    clock.advance(1_000);
    web.failing = false;
    const trial = await turn();
    expect(trial).toMatchObject({ ok: true, outcome: 'ok', result: { status: 200, body: 'ok' } });
    expect((await turn()).outcome).toBe('ok');
  });

  it('never runs more than 4 calls at once (10 slow calls)', async () => {
    web.maxInFlight = 0;
    const streamed: ToolOutcome[] = [];
    const tools = await runner().load({ tenantId: 't', capsuleId: 'concurrency', capabilities: [fetchCapability()], toolPolicy: {} });
    const calls = Array.from({ length: 10 }, (_, i) => call('http_fetch', { url: `${base}/slow?ms=150&i=${i}` }));
    const outcomes = await tools.run(calls, context(), (outcome) => streamed.push(outcome));
    await tools.close();
    expect(outcomes.map((outcome) => outcome.outcome)).toEqual(Array(10).fill('ok'));
    expect(outcomes.map((outcome) => (outcome.result as { body: string }).body)).toEqual(calls.map((_, i) => `slow ${i}`));
    expect(outcomes.map((outcome) => outcome.callId)).toEqual(calls.map((c) => c.callId));
    expect(web.maxInFlight).toBe(4);
    expect(streamed).toHaveLength(10);
  });

  it('a slow tool times out (its signal aborted) while the other calls still finish', async () => {
    web.aborted = [];
    const started = Date.now();
    const outcomes = await loadAndRun(
      [fetchCapability({ timeout_ms: 300 }), builtin('calculator')],
      [call('http_fetch', { url: `${base}/slow?ms=5000&i=stuck` }), call('calculator', { expression: '2+2' }), call('http_fetch', { url: `${base}/slow?ms=10&i=quick` })],
    );
    expect(outcomes.map((outcome) => outcome.outcome)).toEqual(['timeout', 'ok', 'ok']);
    expect(outcomes[0]!.error).toBe('http_fetch timed out after 300 ms');
    expect(outcomes[0]!.latency_ms).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect.poll(() => web.aborted).toEqual(['/slow?ms=5000&i=stuck']);
  });

  it('aborting the turn cancels running calls without counting against the breaker', async () => {
    const controller = new AbortController();
    const clock = fakeClock();
    const shared = runner({ clock });
    const tools = await shared.load({ tenantId: 't', capsuleId: 'cancel', capabilities: [fetchCapability()], toolPolicy: {} });
    setTimeout(() => controller.abort(), 100);
    const outcomes = await tools.run(
      Array.from({ length: 5 }, () => call('http_fetch', { url: `${base}/slow?ms=5000` })),
      context({ signal: controller.signal }),
    );
    expect(outcomes.every((outcome) => outcome.outcome === 'error' && /cancelled/.test(outcome.error!))).toBe(true);
    const [after] = await tools.run([call('http_fetch', { url: `${base}/ok` })], context());
    expect(after!.outcome).toBe('ok');
    await tools.close();
  });
});

type StartFixture = (counterFile: string) => Promise<{ server: McpServerConfig; stop: () => Promise<void> }>;
const fixtures: [string, StartFixture][] = [
  ['stdio', async (counterFile) => ({ server: stdioServer(counterFile), stop: async () => undefined })],
  ['streamable HTTP', async (counterFile) => {
    const fixture = await startHttpCounterServer(counterFile);
    return { server: { transport: 'http', url: fixture.url }, stop: fixture.stop };
  }],
];

describe.each(fixtures)('tool runner: MCP over %s end to end', (_label, start) => {
  it('runs remote tools through validation, policy and the breaker, with the bounded "mcp" metric label', async () => {
    const counterFile = newCounterFile();
    const { server, stop } = await start(counterFile);
    const mcpServers = createMcpServerRegistry({ servers: { counter: server }, fetch: egress.fetch });
    const metrics = recordingMetrics();
    try {
      const capabilities: CapabilityConfig[] = [
        { name: 'echo', kind: 'mcp', enabled: true, config: { server: 'counter' } },
        { name: 'sum', kind: 'mcp', enabled: true, config: { server: 'counter', tool: 'add' } },
        { name: 'fail', kind: 'mcp', enabled: true, config: { server: 'counter' } },
        { name: 'sleep', kind: 'mcp', enabled: true, config: { server: 'counter' }, timeout_ms: 300 },
        builtin('calculator'),
      ];
      const tools = await runner({ mcpServers, metrics: metrics.sink }).load({ tenantId: 't', capsuleId: 'mcp', capabilities, toolPolicy: {} });
      try {
        expect(tools.definitions.find((definition) => definition.name === 'sum')!.inputSchema).toMatchObject({ required: ['a', 'b'] });
        const outcomes = await tools.run(
          [
            call('echo', { text: 'hello' }),
            call('sum', { a: 20, b: 22 }),
            call('sum', { a: 'twenty', b: 22 }),
            call('fail', { message: 'remote failure' }),
            call('sleep', { ms: 5_000 }),
            call('calculator', { expression: '6*7' }),
          ],
          context(),
        );
        expect(outcomes.map(({ outcome, result, error }) => ({ outcome, result, error }))).toEqual([
          { outcome: 'ok', result: 'hello', error: undefined },
          { outcome: 'ok', result: { sum: 42 }, error: undefined },
          { outcome: 'invalid_args', result: undefined, error: 'invalid arguments for sum: args/a must be number' },
          { outcome: 'error', result: undefined, error: 'fail failed: remote failure' },
          { outcome: 'timeout', result: undefined, error: 'sleep timed out after 300 ms' },
          { outcome: 'ok', result: { result: 42 }, error: undefined },
        ]);
        expect(executions(counterFile)).toBe(4);
        expect(executions(counterFile, 'add')).toBe(1);
        // Tenant-chosen tool names (echo, sum, fail, sleep) never become metric labels.
        expect(new Set(metrics.calls.map(([tool]) => tool))).toEqual(new Set(['mcp', 'calculator']));
        expect(new Set(metrics.latencies.map(([tool]) => tool))).toEqual(new Set(['mcp', 'calculator']));
      } finally {
        await tools.close();
      }
    } finally {
      await mcpServers.close();
      await stop();
    }
  });
});

describe('tool runner: the tenant boundary', () => {
  it('an inline stdio server in a capsule is refused at load and at call, and nothing is spawned', async () => {
    const marker = `${newCounterFile()}.spawned`;
    const inline = { transport: 'stdio', command: 'sh', args: ['-c', `touch ${marker}`] };
    const metrics = recordingMetrics();
    const outcomes = await loadAndRun([{ name: 'x', kind: 'mcp', enabled: true, config: { server: inline } }], [call('x', {})], { options: { metrics: metrics.sink } });
    expect(outcomes[0]).toMatchObject({ ok: false, outcome: 'error' });
    expect(outcomes[0]!.error).toMatch(/^x failed: MCP tool "x": config.server must be the name of a registered MCP server/);
    expect(metrics.calls).toEqual([['mcp', 'error']]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(marker)).toBe(false);
  });

  it('http_fetch to loopback and private addresses is refused even when the capsule allow-lists them', async () => {
    const strict = runner({ egress: createEgressPolicy() });
    const before = web.requests;
    const urls = [`${base}/ok`, 'http://10.0.0.1/', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', `http://localhost:${new URL(base).port}/ok`];
    const tools = await strict.load({
      tenantId: 't', capsuleId: 'egress', toolPolicy: {},
      capabilities: [builtin('http_fetch', { config: { allowed_hosts: ['127.0.0.1', '10.0.0.1', '169.254.169.254', '[::1]', '[::ffff:7f00:1]', 'localhost'] } })],
    });
    const outcomes = await tools.run(urls.map((url) => call('http_fetch', { url })), context());
    expect(outcomes.map((outcome) => outcome.outcome)).toEqual(Array(urls.length).fill('error'));
    for (const outcome of outcomes) expect(outcome.error).toMatch(/^http_fetch failed: egress refused: .*not a public address/);
    expect(web.requests).toBe(before);
  });
});
