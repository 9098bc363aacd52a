import { z } from '@hono/zod-openapi';

/** One configuration's line of `soma eval`'s JSON (SPEC §13.3). */
export const EvalConfigurationRun = z
  .object({
    name: z.string(),
    n: z.number().int(),
    accuracy: z.number(),
    mean_iterations: z.number(),
    exit_reasons: z.record(z.string(), z.number().int()),
    tokens: z.number().int(),
    p50_ms: z.number(),
    p95_ms: z.number(),
  })
  .openapi('EvalConfigurationRun');

export const EvalRun = z
  .object({
    id: z.string().uuid(),
    eval: z.string(),
    status: z.enum(['running', 'completed', 'failed', 'interrupted']),
    configurations: z.array(z.string()),
    items: z.number().int(),
    done: z.number().int(),
    total: z.number().int(),
    runs: z.array(EvalConfigurationRun),
    environment: z.record(z.string(), z.unknown()),
    error: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    completed_at: z.string().nullable(),
  })
  .openapi('EvalRun');

export const EvalResult = z
  .object({
    configuration: z.string(),
    item: z.number().int(),
    input: z.string(),
    expected: z.string(),
    match: z.string(),
    answer: z.string(),
    correct: z.boolean(),
    detail: z.string().nullable(),
    tags: z.array(z.string()),
    turn_id: z.string().nullable(),
    conversation_id: z.string().nullable(),
    iterations: z.number().int(),
    exit_reason: z.string(),
    tokens: z.number().int(),
    tools_used: z.array(z.string()),
    latency_ms: z.number().int(),
  })
  .openapi('EvalResult');

export const EvalRunWithResults = EvalRun.extend({ results: z.array(EvalResult) }).openapi('EvalRunWithResults');

export const EvalCreate = z
  .object({
    name: z.string().min(1).max(100).openapi({ description: 'The eval’s name (a dataset file’s name without .jsonl)' }),
    setup: z.record(z.string(), z.unknown()).optional().openapi({ description: 'The capsule every item runs in: {system_prompt?, tools?, memories?}' }),
    items: z
      .array(z.record(z.string(), z.unknown()))
      .min(1)
      .max(1000)
      .openapi({ description: 'The dataset’s lines: {input, expected, match: exact|contains|regex|number|judge, tolerance?, tags?, memories?}' }),
    compare: z.array(z.string().min(1).max(200)).min(1).max(12).default(['single-shot', 'rlm']).openapi({ description: 'Configurations: single-shot, rlm, rlm:threshold=0.8:max_iterations=3…' }),
    fresh: z.boolean().default(false).openapi({ description: 'Start over instead of resuming an unfinished run of the same dataset and configurations' }),
  })
  .strict()
  .openapi('EvalCreate');
