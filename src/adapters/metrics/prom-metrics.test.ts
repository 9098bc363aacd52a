import { describe, expect, it } from 'vitest';
import { createMetrics } from './prom-metrics.js';

describe('metrics: tenant-chosen names never become labels', () => {
  it('tool labels: built-in names, mcp and (unknown) as given; anything else is (other)', async () => {
    const metrics = createMetrics({ toolLabels: ['calculator', 'http_fetch', 'mcp', '(unknown)'] });
    metrics.countToolCall('calculator', 'ok');
    metrics.countToolCall('mcp', 'error');
    metrics.countToolCall('my_secret_tool_name', 'ok');
    metrics.observeToolLatency('another-tenant-name', 0.1);
    const text = await metrics.registry.metrics();
    expect(text).toContain('tool_calls_total{tool="calculator",outcome="ok"} 1');
    expect(text).toContain('tool_calls_total{tool="mcp",outcome="error"} 1');
    expect(text).toContain('tool_calls_total{tool="(other)",outcome="ok"} 1');
    expect(text).not.toMatch(/my_secret_tool_name|another-tenant-name/);
  });

  it("model labels: the operator's model as given, a capsule's model by provider only", async () => {
    const metrics = createMetrics({ knownModelLabels: ['local:gemma-3-270m-q4_k_m'] });
    metrics.tokens('local:gemma-3-270m-q4_k_m', 10, 2);
    metrics.tokens('openai:tenant-fine-tune-ft:abc123', 5, 1);
    metrics.tokens('weird:thing', 1, 1);
    const text = await metrics.registry.metrics();
    expect(text).toContain('llm_tokens_total{direction="input",model="local:gemma-3-270m-q4_k_m"} 10');
    expect(text).toContain('llm_tokens_total{direction="input",model="openai"} 5');
    expect(text).toContain('llm_tokens_total{direction="input",model="other"} 1');
    expect(text).not.toMatch(/tenant-fine-tune|weird/);
  });
});
