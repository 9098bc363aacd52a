import type { Database } from '../adapters/store/index.js';
import type { HealthMonitor } from '../core/health/index.js';
import type { Brain } from '../ports/brain.js';
import type { Clock } from '../ports/clock.js';
import type { ToolRunner } from '../ports/tools.js';
import type { ModelFactory } from './model-router.js';

/** What use cases need from the metrics adapter. */
export interface TurnMetricsSink {
  iteration(exitReason: string, score: number): void;
  turn(exitReason: string, iterations: number, seconds: number): void;
  tokens(model: string, prompt: number, completion: number): void;
  observeLearningLatency(seconds: number): void;
  countLearningSkipped(): void;
}

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Everything the use cases depend on; built once by the composition root. */
export interface AppContext {
  database: Database;
  brain: Brain;
  models: ModelFactory;
  toolRunner: ToolRunner;
  clock: Clock;
  health: HealthMonitor;
  metrics: TurnMetricsSink;
  logger: Logger;
  settings: {
    defaultModel: string;
    rlm: { enabled: boolean; singleShot: boolean; maxIterations?: number; convergenceThreshold?: number };
    turnTokenBudget: number;
    turnDeadlineMs: number;
    contextTokens: number;
    maxOutputTokens: number;
    brainTimeoutMs: number;
  };
}
