import type { ExitReason, IterationDecision } from '../../core/turn/index.js';
import type { ChatModel, LlmOutput, ToolCall } from '../../ports/chat-model.js';
import type { LearnedState, Neuromodulators, TurnMetrics, Weights } from '../../ports/learning.js';
import type { Clock } from '../../ports/clock.js';
import type { ToolContext, ToolOutcome, ToolSet } from '../../ports/tools.js';
import type { HistoryMessage } from '../../core/context/index.js';

/** How the learning step of one iteration went. */
export type LearnResult =
  | {
      status: 'applied' | 'gated';
      before: LearnedState;
      after: LearnedState;
      reward: number;
      advantage: number;
      seq?: number;
    }
  | { status: 'skipped'; reason: string };

/** Stores an iteration given how its learning went; `transaction` is the store's open transaction when the learner has one. */
export type PersistIteration = (learned: LearnResult, transaction?: unknown) => Promise<void>;

/**
 * Learns from one iteration — the live brain, or a pure recomputation in replay — and calls
 * `persist` exactly once: inside the learning step's own transaction when the brain shares the
 * database (so the iteration and its learning commit together), else after the step. A failing brain
 * is not an error: the iteration is persisted with learning `skipped`. Only a failing `persist`
 * rejects.
 */
export interface Learner {
  /** `appendOnly`: the save only appends rows (see {@link TurnSink.appendsOnly}), so a brain may write it in its own statement. */
  learn(input: { iteration: number; metrics: TurnMetrics; persist: PersistIteration; appendOnly?: boolean }): Promise<LearnResult>;
  /**
   * Whether iterations handed over in the same moment are written together (the in-process brain: one
   * statement, one commit, each persisted in the transaction of the one before it).
   */
  groupsWrites?: boolean;
}

/** A memory recalled for the turn, as recorded in the iteration's metadata (with the features its lane score needs). */
export interface RecalledForTurn {
  key: string;
  content: string;
  /** Softmax weight among the recalled memories. */
  score: number;
  similarity?: number;
  importance?: number;
  recency?: number;
}

/**
 * Scores a draft from a real signal (the capsule's scorer), in [0, 1]; null when it cannot tell.
 * `feedback` says what a failing draft missed, for the refine step (e.g. the pattern it must match).
 */
export type AnswerScorer = ((input: { answer: string; userMessage: string; iteration: number }) => Promise<number | null>) & { feedback?: (score: number) => string };

/** Everything stored about one iteration (the `rlm_iterations` row). */
export interface IterationRecord {
  iteration: number;
  content: string;
  llmOutput: LlmOutput;
  model: string;
  confidence: number | null;
  convergenceScore: number;
  exitReason: IterationDecision;
  weightsBefore: Weights;
  weightsAfter: Weights;
  weightDeltas: Weights;
  neuromodulatorsBefore: Neuromodulators;
  neuromodulatorsAfter: Neuromodulators;
  toolCalls: ToolCall[];
  toolResults: ToolOutcome[];
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  startedAt: Date;
  completedAt: Date;
  metadata: IterationMetadata;
}

export interface IterationMetadata {
  learning: 'applied' | 'gated' | 'skipped';
  learning_error?: string;
  learning_seq?: number;
  reward?: number;
  advantage?: number;
  /** The state the learning step started from (the previous history row's `*_after`). */
  learning_before?: LearnedState;
  metrics: TurnMetrics;
  stability: number | null;
  tool_success_rate: number;
  loop: { repeated_tool_call: boolean; repeated_draft: boolean };
  /** Checks the draft failed (`truncated`, `echo`, `empty`, `tool_result_unused`, `scorer_failed`): it scored 0 and could not converge. */
  defects?: string[];
  /**
   * The memories the turn recalled, stored with its first iteration only: every iteration of a turn
   * uses the same ones (recalled once; a resumed run takes them from the first), so later iterations
   * do not repeat them — `GET /v1/trace` shows them on each iteration.
   */
  memories?: RecalledForTurn[];
  /** The memory lane: its keys in weight order and the planner's figures (SPEC §13.2). */
  lane?: { keys: string[]; utility: number; total_weight: number; tokens: number };
  /** Explored weights whose sign changed the lane (the ones the step credited). */
  lane_sensitive?: string[];
  /** SHA-256 of the canonical JSON of the exact messages sent to the model (replay compares it). */
  prompt_hash?: string;
  /** Token counts the iteration took, by text hash (`textKey`): replay counts exactly as the live tokenizer did. */
  token_counts?: Record<string, number>;
  /** The answer's score from a real signal (scorer, or 0 for a junk draft), when there was one. */
  answer_score?: number | null;
  /** Why the draft counts as junk (empty, truncated, echo), when it does. */
  junk?: string;
  /** What the capsule's scorer said a failing draft missed (the next refine step names it; replay and resume read it here). */
  scorer_feedback?: string;
  context: Record<string, number>;
  degraded: boolean;
  /** Whether the turn's deadline had passed when this iteration ended (recorded for replay). */
  deadline_passed: boolean;
  /** Tokens the turn had spent after this iteration. */
  tokens_used: number;
  policy_decisions: { call_id: string; tool: string; allow: boolean; engine: string; reason?: string }[];
  /** Characters PostgreSQL cannot store (NUL, unpaired surrogates) replaced by U+FFFD in the model's and the tools' output. */
  text_replaced?: { model: number; tools: number };
  /** The loop's own decision when the turn's exit reason was recorded here afterwards (cancelled, error, interrupted…). */
  decided?: string;
}

/** Receives the turn's progress: streaming callbacks and the durable save of each iteration. */
export interface TurnSink {
  iterationStarted(iteration: number): void;
  delta(iteration: number, text: string): void;
  toolCall(iteration: number, call: ToolCall): void;
  toolResult(iteration: number, outcome: ToolOutcome): void;
  /**
   * Stores the iteration and its event atomically (inside `transaction` when given); the loop waits
   * for it. `turn`: the turn's iterations before this one and the tools it used so far (a live sink
   * closes the turn in the same commit when this iteration ends it).
   */
  saveIteration(record: IterationRecord, transaction?: unknown, turn?: { records: readonly IterationRecord[]; toolsUsed: ReadonlySet<string> }): Promise<void>;
  /** Whether saving an iteration that ends with `exitReason` after these tool outcomes only appends rows (no pause, no read). */
  appendsOnly?(exitReason: string, toolResults: readonly ToolOutcome[]): boolean;
  iterationCompleted(record: IterationRecord): void;
  /**
   * The loop goes on with the next iteration while this one's write waits to go with the next
   * iterations' writes, or is in flight: this iteration's `iteration.completed` keeps its place (its id)
   * before what the next iteration emits, which reaches the streams only after it. A sink without it
   * makes the loop write and commit each iteration before the next one starts.
   */
  deferCompletion?(iteration: number): void;
  /** The write the held events waited for failed: they, and the completions kept for iterations not written, never reach the streams. */
  dropHeld?(): void;
}

export interface TurnSettings {
  minIterations: number;
  maxIterations: number;
  threshold: number;
  tokenBudget: number;
  /** Milliseconds the turn may take. */
  deadlineMs: number;
  contextTokens: number;
  /** Longest completion of one iteration, in tokens. */
  maxOutputTokens?: number;
  temperature?: number;
  degraded: boolean;
  memoryOff: boolean;
}

export interface TurnLoopInput {
  turnId: string;
  tenantId: string;
  capsuleId: string;
  userId: string;
  seed: number;
  systemPrompt: string;
  history: HistoryMessage[];
  userMessage: string;
  memories: RecalledForTurn[];
  /**
   * The weights the turn recalled with (its exploration draw included), which choose the memory lane,
   * and per explored weight the same weights with its sign flipped (to find the lane-sensitive ones).
   */
  lane: { weights: Weights; flipped: Partial<Record<keyof Weights, Weights>> };
  settings: TurnSettings;
  startState: LearnedState;
  /** Go on after these committed iterations (a resumed turn) instead of starting at iteration 0. */
  resume?: TurnResume;
}

export interface TurnLoopDeps {
  model: ChatModel;
  tools: Pick<ToolSet, 'definitions' | 'run'>;
  learner: Learner;
  clock: Clock;
  sink: TurnSink;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
  /** Runs tools with this context (the loop fills in iteration and signal). */
  toolContext?: Omit<ToolContext, 'iteration' | 'signal'>;
  /** Decides calls that wait for a person; without one (a live turn) the turn pauses there. */
  approvals?: ApprovalGate;
  /** The capsule's scorer: its score becomes the reward's quality instead of self-confidence. */
  scorer?: AnswerScorer;
  /**
   * Settles when the turn's start is committed (a run that begins beside that write): before it, the
   * loop drafts and scores but runs no tool and stores nothing; rejected, the loop ends there.
   */
  started?: Promise<void>;
  /**
   * How long (ms) an iteration that goes on waits for the next iterations' writes to go with it, in one
   * statement and one commit (`SOMA_ITERATION_LINGER_MS`); 0 writes it at once. Only its
   * `iteration.completed` comes later: the next model call does not wait.
   */
  lingerMs?: number;
}

interface TurnLoopEnd {
  iterations: IterationRecord[];
  best?: IterationRecord;
  error?: { code: string; message: string; iteration: number };
  tokensUsed: number;
  toolsUsed: string[];
}

/** How the loop ended: with an exit reason, or paused for approval at an iteration boundary. */
export type TurnLoopResult = TurnLoopEnd & ({ exitReason: ExitReason; paused?: undefined } | { exitReason?: undefined; paused: PausedAt });

/** A loop that ended with an exit reason (the turn closes). */
export type ClosedLoopResult = TurnLoopEnd & { exitReason: ExitReason; paused?: undefined };

/** Where a turn paused (SPEC §13.4): the calls of iteration `iteration` that wait for a person. */
export interface PausedAt {
  iteration: number;
  calls: ToolOutcome[];
}

/** Decides, at an iteration boundary, the calls of that iteration that wait for a person. */
export interface ApprovalGate {
  /** The decided outcomes of `awaiting` (the loop goes on with them), or undefined: the turn pauses here. */
  resolve(iteration: number, awaiting: ToolOutcome[]): Promise<ToolOutcome[] | undefined>;
}

/** What a turn that runs again (after an approval, or `POST /v1/turns/:id/resume`) continues from. */
export interface TurnResume {
  /** The turn's committed iterations, in order: the loop goes on with the next one. */
  records: IterationRecord[];
  /** Decided outcomes of calls that waited for approval, by the iteration that made them. */
  resolvedCalls: ReadonlyMap<number, readonly ToolOutcome[]>;
}
