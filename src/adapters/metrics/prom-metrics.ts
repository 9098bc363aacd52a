import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsOptions {
  /** Also collect Node's default process metrics. */
  defaultMetrics?: boolean;
  /**
   * Model labels kept as they are (the operator's `SOMA_MODEL`); any other model is counted under its
   * provider (`openai`, `local`, …) or `other`, since capsules choose model names.
   */
  knownModelLabels?: readonly string[];
  /** Tool labels kept as they are (built-in names, `mcp`, `(unknown)`); any other becomes `(other)`. */
  toolLabels?: readonly string[];
}

const providers = new Set(['openai', 'anthropic', 'openai-compatible', 'local', 'scripted']);

/**
 * The Prometheus metrics of SPEC §9 on a registry of their own (one per process or test app).
 * Labels are low-cardinality only: never turn, user or conversation ids, and never a name a tenant
 * chose (SPEC §13.1): tool labels are built-in names or `mcp`, model labels the operator's model or a
 * provider.
 */
export function createMetrics({ defaultMetrics = false, knownModelLabels = [], toolLabels }: MetricsOptions = {}) {
  const knownModels = new Set(knownModelLabels);
  const modelLabel = (model: string) => {
    if (knownModels.has(model)) return model;
    const provider = model.split(':')[0]!;
    return providers.has(provider) ? provider : 'other';
  };
  const tools = toolLabels ? new Set(toolLabels) : undefined;
  const toolLabel = (tool: string) => (!tools || tools.has(tool) ? tool : '(other)');
  const registry = new Registry();
  if (defaultMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const iterations = new Counter({ name: 'rlm_iterations_total', help: 'RLM iterations; the last of a turn carries its exit reason, the others "continue"', labelNames: ['exit_reason'], registers });
  const iterationsPerTurn = new Histogram({ name: 'rlm_iterations_per_turn', help: 'Iterations per turn', buckets: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], registers });
  const convergence = new Histogram({ name: 'rlm_convergence_score', help: 'Convergence score of each iteration', buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1], registers });
  const turnLatency = new Histogram({ name: 'agent_turn_latency_seconds', help: 'Wall time of a turn', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300], registers });
  const turns = new Counter({ name: 'agent_turns_total', help: 'Turns by exit reason', labelNames: ['exit_reason'], registers });
  const tokens = new Counter({ name: 'llm_tokens_total', help: 'LLM tokens by direction and model', labelNames: ['direction', 'model'], registers });
  const learningLatency = new Histogram({ name: 'somabrain_learning_latency_seconds', help: 'Latency of a learning step', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers });
  const learningSkipped = new Counter({ name: 'somabrain_learning_skipped_total', help: 'Iterations whose learning step was skipped (brain unavailable)', registers });
  const toolLatency = new Histogram({ name: 'tool_execution_latency_seconds', help: 'Tool execution latency', labelNames: ['tool'], buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers });
  const toolCalls = new Counter({ name: 'tool_calls_total', help: 'Tool calls by outcome', labelNames: ['tool', 'outcome'], registers });
  const policyDecisions = new Counter({ name: 'policy_decisions_total', help: 'Policy decisions', labelNames: ['decision'], registers });
  const outboxPending = new Gauge({ name: 'outbox_pending', help: 'Outbox rows waiting to be published', registers });
  const outboxDead = new Counter({ name: 'outbox_dead_total', help: 'Outbox rows marked dead after 5 attempts', registers });
  const outboxPublished = new Counter({ name: 'outbox_published_total', help: 'Outbox rows published to Kafka', registers });
  const relayLag = new Histogram({ name: 'outbox_relay_lag_seconds', help: 'Commit-to-Kafka lag of published events', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers });

  return {
    registry,
    iteration(exitReason: string, score: number) {
      iterations.inc({ exit_reason: exitReason });
      convergence.observe(score);
    },
    turn(exitReason: string, iterationCount: number, seconds: number) {
      turns.inc({ exit_reason: exitReason });
      iterationsPerTurn.observe(iterationCount);
      turnLatency.observe(seconds);
    },
    tokens(model: string, prompt: number, completion: number) {
      tokens.inc({ direction: 'input', model: modelLabel(model) }, prompt);
      tokens.inc({ direction: 'output', model: modelLabel(model) }, completion);
    },
    observeLearningLatency: (seconds: number) => learningLatency.observe(seconds),
    countLearningSkipped: () => learningSkipped.inc(),
    observeToolLatency: (tool: string, seconds: number) => toolLatency.observe({ tool: toolLabel(tool) }, seconds),
    countToolCall: (tool: string, outcome: string) => toolCalls.inc({ tool: toolLabel(tool), outcome }),
    countPolicyDecision: (decision: 'allow' | 'deny') => policyDecisions.inc({ decision }),
    setPending: (n: number) => outboxPending.set(n),
    countDead: (n: number) => outboxDead.inc(n),
    countPublished: (n: number) => outboxPublished.inc(n),
    observeLag: (seconds: number) => relayLag.observe(seconds),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
