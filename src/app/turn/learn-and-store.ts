import type { Clock } from '../../ports/clock.js';
import { SomaError } from '../../shared/errors.js';
import { buildIterationRecord, type IterationFacts } from './iteration-record.js';
import type { TurnProgress } from './turn-progress.js';
import type { IterationRecord, Learner, TurnSink } from './types.js';

/**
 * Iterations written together, one after the other in the same moment (see {@link writeIterations}):
 * each one's write joins the write of the one before it — the same statement, one commit — or is
 * refused before it writes anything ({@link WriteNotJoined}), to be written once that one committed.
 */
export interface WriteChain {
  /** The chain's iterations not committed yet. */
  waiting: Set<number>;
  /** The transaction each iteration of the chain was last persisted in, by iteration. */
  transactions: Map<number, unknown>;
  /** The records built so far (not yet committed), by iteration. */
  records: Map<number, IterationRecord>;
}

/** An iteration's write refused, before it wrote anything, because it would not commit with the previous iteration's. */
export class WriteNotJoined extends SomaError {
  readonly refusedBeforeWrite = true;
  constructor(iteration: number) {
    super('CONFLICT', `iteration ${iteration} would not commit with the iteration before it`);
  }
}

/**
 * The learning step of an iteration and the iteration's durable save (SPEC §3.4 "Learn"): the learner
 * calls `persist` once — inside the in-process brain's own transaction, so the iteration and its
 * learning commit together — and the turn's state moves to the step's after-state. In a `chain`, the
 * iteration is only persisted in the transaction the iteration before it was persisted in.
 */
export async function learnAndStore({ facts, learner, sink, clock, progress, chain }: { facts: IterationFacts; learner: Learner; sink: TurnSink; clock: Clock; progress: TurnProgress; chain?: WriteChain }): Promise<IterationRecord> {
  let record: IterationRecord | undefined;
  const previous = facts.iteration - 1;
  const learned = await learner.learn({
    iteration: facts.iteration,
    metrics: facts.score.metrics,
    appendOnly: sink.appendsOnly?.(facts.decision, facts.tools.outcomes) ?? false,
    persist: async (result, transaction) => {
      if (chain?.waiting.has(previous) && (transaction === undefined || chain.transactions.get(previous) !== transaction)) throw new WriteNotJoined(facts.iteration);
      // (A skipped step is persisted without a transaction: refused above while the previous one waits,
      // so the state it keeps, progress.state, is the previous one's after-state.)
      const built = buildIterationRecord(facts, result, progress.state, clock.now());
      const earlier = chain ? [...progress.records, ...[...chain.records.values()].filter((r) => r.iteration < facts.iteration)] : progress.records;
      chain?.transactions.set(facts.iteration, transaction);
      chain?.records.set(facts.iteration, built);
      await sink.saveIteration(built, transaction, { records: earlier, toolsUsed: progress.toolsUsed });
      record = built; // the last attempt is the one that committed
    },
  });
  if (!record) throw new Error('the learner did not persist the iteration');
  if (learned.status !== 'skipped') progress.state = learned.after;
  progress.records.push(record);
  return record;
}

/**
 * Writes iterations that went on one after the other (`list`, in order) and tells the sink each one
 * committed, in order. With a learner that groups writes, all of them are handed over in the same
 * moment — so the in-process brain writes them, with their learning steps, in one statement and one
 * commit — and one that could not join the one before it is written after that one committed.
 * Rejects with the first failure ({@link IterationWriteFailed}: what was written before it stays).
 */
export async function writeIterations({ list, learner, sink, clock, progress }: { list: IterationFacts[]; learner: Learner; sink: TurnSink; clock: Clock; progress: TurnProgress }): Promise<void> {
  const chain: WriteChain | undefined = learner.groupsWrites && list.length > 1 ? { waiting: new Set(list.map((f) => f.iteration)), transactions: new Map(), records: new Map() } : undefined;
  const launched = chain ? list.map((facts) => learnAndStore({ facts, learner, sink, clock, progress, chain })) : [];
  // Each launched write is settled (none left unhandled), in order.
  launched.forEach((p) => p.catch(() => undefined));
  for (let i = 0; i < list.length; i++) {
    const facts = list[i]!;
    let record: IterationRecord;
    try {
      record = chain ? await launched[i]!.catch((error: unknown) => (error instanceof WriteNotJoined ? learnAndStore({ facts, learner, sink, clock, progress }) : Promise.reject(error))) : await learnAndStore({ facts, learner, sink, clock, progress });
    } catch (cause) {
      throw new IterationWriteFailed(facts.iteration, cause);
    }
    // Later iterations of the chain no longer wait on this one's (committed) write.
    chain?.waiting.delete(facts.iteration);
    chain?.records.delete(facts.iteration);
    sink.iterationCompleted(record);
  }
}

/** The write of `iteration` failed (and the iterations after it in its chain were not written). */
export class IterationWriteFailed extends Error {
  constructor(
    readonly iteration: number,
    override readonly cause: unknown,
  ) {
    super(`iteration ${iteration} could not be stored`, { cause });
  }
}
