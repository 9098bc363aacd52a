import type { Clock } from '../../ports/clock.js';
import { buildIterationRecord, type IterationFacts } from './iteration-record.js';
import type { TurnProgress } from './turn-progress.js';
import type { IterationRecord, Learner, TurnSink } from './types.js';

/**
 * The learning step of an iteration and the iteration's durable save (SPEC §3.4 "Learn"): the learner
 * calls `persist` once — inside the in-process brain's own transaction, so the iteration and its
 * learning commit together — and the turn's state moves to the step's after-state. `collected` is told
 * when the write was handed over (its events staged, its statement collected), before it commits.
 */
export async function learnAndStore({ facts, learner, sink, clock, progress, collected }: { facts: IterationFacts; learner: Learner; sink: TurnSink; clock: Clock; progress: TurnProgress; collected?: () => void }): Promise<IterationRecord> {
  let record: IterationRecord | undefined;
  const learned = await learner.learn({
    iteration: facts.iteration,
    metrics: facts.score.metrics,
    appendOnly: sink.appendsOnly?.(facts.decision, facts.tools.outcomes) ?? false,
    persist: async (result, transaction) => {
      const built = buildIterationRecord(facts, result, progress.state, clock.now());
      await sink.saveIteration(built, transaction, { records: progress.records, toolsUsed: progress.toolsUsed });
      record = built; // the last attempt is the one that committed
      collected?.();
    },
  });
  if (!record) throw new Error('the learner did not persist the iteration');
  if (learned.status !== 'skipped') progress.state = learned.after;
  progress.records.push(record);
  return record;
}
