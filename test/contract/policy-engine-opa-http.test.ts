import { describe, expect, it } from 'vitest';
import { createOpaHttpPolicy } from '../../src/adapters/policy/index.js';
import type { PolicyInput } from '../../src/ports/tools.js';
import { startOpa } from '../support/opa-server.js';
import { skipWithout } from '../support/services.js';
import { describePolicyEngineContract } from './policy-engine.contract.js';

const noOpa = skipWithout('opaBin');

describe.skipIf(noOpa)('OPA server', () => {
  describePolicyEngineContract('OPA server (opa run --server)', async () => {
    const opa = await startOpa();
    return { engine: createOpaHttpPolicy({ url: opa.url }), teardown: opa.stop };
  });

  it('denies every tool once the OPA server is stopped (fail closed)', async () => {
    const opa = await startOpa();
    const engine = createOpaHttpPolicy({ url: opa.url, timeoutMs: 1_000 });
    const input: PolicyInput = {
      action: 'tool.execute',
      tenant: 't',
      capsule: { id: 'c', tools: ['calculator'], tool_policy: {} },
      user: 'u',
      tool: 'calculator',
      args: {},
      iteration: 0,
    };
    expect((await engine.decide(input)).allow).toBe(true);
    await opa.stop();
    for (const tool of ['calculator', 'echo', 'http_fetch']) {
      const decision = await engine.decide({ ...input, tool });
      expect(decision.allow).toBe(false);
      expect(decision.reason).toMatch(/^policy engine unavailable: .*unreachable/);
    }
  });

  it('denies when the server runs without the soma.tools policy', async () => {
    const opa = await startOpa({ withPolicy: false });
    try {
      const decision = await createOpaHttpPolicy({ url: opa.url }).decide({
        action: 'tool.execute', tenant: 't', capsule: { id: 'c', tools: ['calculator'], tool_policy: {} },
        user: 'u', tool: 'calculator', args: {}, iteration: 0,
      });
      expect(decision).toMatchObject({ allow: false, engine: 'opa-http' });
      expect(decision.reason).toContain('no soma.tools decision');
    } finally {
      await opa.stop();
    }
  });
});
