import { describe, expect, it } from 'vitest';
import { HealthMonitor } from './health-monitor.js';

describe('HealthMonitor', () => {
  it('not yet checked is not unhealthy', () => {
    const health = new HealthMonitor();
    expect(health.state('database')).toBe('unknown');
    expect(health.modelState('openai:a')).toBe('unknown');
    expect(health.degraded()).toBe(false);
    expect(health.degraded({ model: 'openai:a' })).toBe(false);
  });

  it("one model's failure degrades only the turns of that model", () => {
    const health = new HealthMonitor();
    health.report('database', true);
    health.reportModel('openai:broken', false);
    health.reportModel('scripted:/tmp/ok.json', true);
    expect(health.degraded({ model: 'openai:broken' })).toBe(true);
    expect(health.degraded({ model: 'scripted:/tmp/ok.json' })).toBe(false);
    expect(health.degraded({ model: 'anthropic:never-called' })).toBe(false);
    expect(health.degraded()).toBe(false);
    health.reportModel('openai:broken', true);
    expect(health.degraded({ model: 'openai:broken' })).toBe(false);
  });

  it('the database or the brain known unhealthy degrades every turn', () => {
    for (const service of ['database', 'brain'] as const) {
      const health = new HealthMonitor();
      health.reportModel('openai:a', true);
      health.report(service, false);
      expect(health.degraded({ model: 'openai:a' })).toBe(true);
      expect(health.degraded()).toBe(true);
      health.report(service, true);
      expect(health.degraded({ model: 'openai:a' })).toBe(false);
    }
  });

  it('other dependencies are reported but do not degrade turns', () => {
    const health = new HealthMonitor();
    health.report('kafka', false);
    expect(health.degraded({ model: 'm' })).toBe(false);
    expect(health.snapshot()).toEqual({ kafka: 'unhealthy' });
  });

  it('remembers a bounded number of models, forgetting the least recently reported', () => {
    const health = new HealthMonitor({ maxModels: 2 });
    health.reportModel('a', false);
    health.reportModel('b', false);
    health.reportModel('a', false);
    health.reportModel('c', true);
    expect([health.modelState('a'), health.modelState('b'), health.modelState('c')]).toEqual(['unhealthy', 'unknown', 'healthy']);
    expect(health.modelSnapshot()).toEqual({ healthy: 1, unhealthy: 1 });
    expect(health.snapshot()).toEqual({});
  });
});
