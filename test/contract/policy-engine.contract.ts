import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyEngine, PolicyInput, ToolPolicy } from '../../src/ports/tools.js';

/**
 * The PolicyEngine contract (SPEC §6), run against every engine: the shipped `soma.tools` policy
 * must decide the same way embedded (WASM) and on an OPA server.
 */
export function describePolicyEngineContract(
  label: string,
  setup: () => Promise<{ engine: PolicyEngine; teardown?: () => Promise<void> }>,
): void {
  describe(`PolicyEngine contract: ${label}`, () => {
    let engine: PolicyEngine;
    let teardown: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ engine, teardown } = await setup());
    });
    afterAll(async () => {
      await teardown?.();
    });

    const input = (tool: string, toolPolicy: ToolPolicy = {}, overrides: Partial<PolicyInput> = {}): PolicyInput => ({
      action: 'tool.execute',
      tenant: 'tenant-1',
      capsule: { id: 'capsule-1', tools: ['calculator', 'http_fetch', 'echo'], tool_policy: toolPolicy },
      user: 'user-1',
      tool,
      args: { expression: '6*7' },
      iteration: 0,
      ...overrides,
    });

    it('allows an enabled tool of the capsule', async () => {
      const decision = await engine.decide(input('calculator'));
      expect(decision).toMatchObject({ allow: true, engine: engine.name });
    });

    it('denies a tool the capsule has not enabled', async () => {
      const decision = await engine.decide(input('shell'));
      expect(decision.allow).toBe(false);
      expect(decision.engine).toBe(engine.name);
      expect(decision.reason).toBe('tool shell is not an enabled tool of capsule capsule-1');
    });

    it('denies every tool when the capsule has none', async () => {
      const decision = await engine.decide(input('calculator', {}, { capsule: { id: 'capsule-2', tools: [], tool_policy: {} } }));
      expect(decision.allow).toBe(false);
    });

    it('denies a tool listed in tool_policy.denied', async () => {
      const decision = await engine.decide(input('http_fetch', { denied: ['http_fetch'] }));
      expect(decision.allow).toBe(false);
      expect(decision.reason).toBe("tool http_fetch is denied by the capsule's tool policy");
      expect((await engine.decide(input('calculator', { denied: ['http_fetch'] }))).allow).toBe(true);
    });

    it('denies an approval_required tool until it is approved', async () => {
      const pending = await engine.decide(input('echo', { approval_required: ['echo'] }));
      expect(pending.allow).toBe(false);
      expect(pending.reason).toBe('tool echo requires approval and has not been approved');
      const approved = await engine.decide(input('echo', { approval_required: ['echo'], approved: ['echo'] }));
      expect(approved.allow).toBe(true);
    });

    it("allows an approval_required tool for a call a person approved, and nothing else", async () => {
      const approved = await engine.decide(input('echo', { approval_required: ['echo'] }, { approval: { approved: true, by: 'user-2' } }));
      expect(approved.allow).toBe(true);
      const notApproved = await engine.decide(input('echo', { approval_required: ['echo'] }, { approval: { approved: false } }));
      expect(notApproved.allow).toBe(false);
      // A person's approval never overrides a denial, a disabled tool or another action.
      expect((await engine.decide(input('echo', { denied: ['echo'], approval_required: ['echo'] }, { approval: { approved: true } }))).allow).toBe(false);
      expect((await engine.decide(input('shell', { approval_required: ['shell'] }, { approval: { approved: true } }))).allow).toBe(false);
    });

    it('denied wins over approved', async () => {
      const decision = await engine.decide(input('echo', { denied: ['echo'], approval_required: ['echo'], approved: ['echo'] }));
      expect(decision.allow).toBe(false);
    });

    it('denies any other action', async () => {
      const decision = await engine.decide({ ...input('calculator'), action: 'tool.list' as PolicyInput['action'] });
      expect(decision.allow).toBe(false);
      expect(decision.reason).toContain('is not governed by soma.tools');
    });

    it('treats a missing tool_policy as empty', async () => {
      const bare = input('calculator');
      const capsule = { id: bare.capsule.id, tools: bare.capsule.tools } as PolicyInput['capsule'];
      expect((await engine.decide({ ...bare, capsule })).allow).toBe(true);
    });
  });
}
