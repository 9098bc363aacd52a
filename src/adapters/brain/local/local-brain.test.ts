import { randomUUID } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultLearnedState, learningStep, resolveLearningConfig } from '../../../core/learning/index.js';
import type { PublishTurnMetricsRequest } from '../../../ports/brain.js';
import type { Clock } from '../../../ports/clock.js';
import type { LearnedState } from '../../../ports/learning.js';
import { isSomaError, SomaError } from '../../../shared/errors.js';
import { drivers, freshDatabase } from '../../../../test/support/databases.js';
import { createDrizzleStore, statementOf, StatementBatch, tables, type Database } from '../../store/index.js';
import { insertTenantWithCapsule } from '../../../../test/support/capsules.js';
import { RECALL_MATCHES, RECALL_WINDOW, recallMemories } from './brain-memory.js';
import { createLocalBrain } from './local-brain.js';

function metricsFor(i: number, scope: { tenantId: string; capsuleId: string }): PublishTurnMetricsRequest {
  return {
    capsule_id: scope.capsuleId,
    tenant: scope.tenantId,
    turn_id: randomUUID(),
    iteration_number: i % 3,
    tools_used: i % 2 === 0 ? ['calculator'] : [],
    confidence: (i * 37) % 100 / 100,
    convergence_score: 0.5,
    tool_success_rate: 1,
    latency_ms: 900 + i * 10,
    prompt_tokens: 1200,
    completion_tokens: 150,
    novelty: ((i * 53) % 100) / 100,
    seed: 1000 + i,
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return isSomaError(error) ? error.code : `non-soma: ${(error as Error).message}`;
  }
  return undefined;
}

describe.each(drivers())('local brain on %s', (driver) => {
  let database: Database;
  let drop: () => Promise<void>;
  let now = Date.parse('2026-11-24T12:00:00Z');
  const clock: Clock = { now: () => now };
  const observed: number[] = [];
  let skipped = 0;

  beforeAll(async () => {
    ({ database, drop } = await freshDatabase(driver));
  });
  afterAll(async () => {
    await drop();
  });

  it('learns in one statement from the state it keeps, and re-reads when another process moved the capsule', async () => {
    const scope = await insertTenantWithCapsule(database);
    const store = createDrizzleStore(database);
    // Two brains on one database: two Soma processes, each with its own in-process state.
    const brains = [createLocalBrain({ database, clock }), createLocalBrain({ database, clock })];
    const windowStart = new Date('2026-11-24T00:00:00Z');
    const responses = [];
    for (let i = 0; i < 12; i += 1) {
      // Runs of three steps on one brain, then the other: its kept state is stale on every switch.
      const brain = brains[Math.floor(i / 3) % 2]!;
      responses.push(
        await brain.publishTurnMetrics(metricsFor(i, scope), {
          appendOnly: true,
          persist: async (_response, transaction) => store.joinTransaction(transaction).usage.addTokens(scope.tenantId, windowStart, 10),
        }),
      );
    }
    expect(responses.every((r) => r.persisted)).toBe(true);
    expect(responses.map((r) => r.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const rows = await database.db.select().from(tables.learningUpdates).where(eq(tables.learningUpdates.capsuleId, scope.capsuleId)).orderBy(asc(tables.learningUpdates.seq));
    expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    for (let i = 1; i < rows.length; i += 1) {
      expect(rows[i]!.weightsBefore).toEqual(rows[i - 1]!.weightsAfter);
      expect(rows[i]!.neuromodulatorsBefore).toEqual(rows[i - 1]!.neuromodulatorsAfter);
      expect(rows[i]!.baselineBefore).toBe(rows[i - 1]!.baselineAfter);
    }
    // Every step's append committed exactly once, with its step (a step that found the capsule moved wrote nothing).
    expect(await store.usage.used(scope.tenantId, 'tokens', windowStart)).toBe(120);
    const state = await brains[0]!.getState(scope);
    expect(state.learning_version).toBe(12);
    expect(state.neuromodulators).toEqual(rows.at(-1)!.neuromodulatorsAfter);
  });

  it("gathers a capsule's concurrent appending steps into one statement: the chain a queue of single steps gives, each committed with its appends", async () => {
    const scope = await insertTenantWithCapsule(database);
    const store = createDrizzleStore(database);
    const windowStart = new Date('2026-11-24T00:00:00Z');
    let statements = 0;
    const counted: Database = { ...database, run: (statement) => ((statements += 1), database.run(statement)) };
    const brain = createLocalBrain({ database: counted, clock });
    const persist = (i: number) => async (_response: unknown, transaction: unknown) => {
      await store.joinTransaction(transaction).usage.addTokens(scope.tenantId, windowStart, 10 + i);
    };
    // The first step of this process takes the locking path and keeps the capsule's state.
    const firstRequest = metricsFor(0, scope);
    await brain.publishTurnMetrics(firstRequest, { appendOnly: true, persist: persist(0) });
    const requests = Array.from({ length: 12 }, (_, i) => metricsFor(i + 1, scope));
    const responses = await Promise.all(requests.map((request, i) => brain.publishTurnMetrics(request, { appendOnly: true, persist: persist(i + 1) })));
    expect(responses.every((r) => r.persisted)).toBe(true);
    expect(responses.map((r) => r.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 2));
    // Fewer statements than steps: the steps that waited for the capsule went together.
    expect(statements).toBeLessThan(12);
    const rows = await database.db.select().from(tables.learningUpdates).where(eq(tables.learningUpdates.capsuleId, scope.capsuleId)).orderBy(asc(tables.learningUpdates.seq));
    expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    // The same chain as one step after the other: each from the previous after-state, in the order asked.
    let state = defaultLearnedState();
    for (const [i, row] of rows.entries()) {
      expect(row.turnId).toBe((i === 0 ? firstRequest : requests[i - 1]!).turn_id);
      expect(row.weightsBefore).toEqual(state.weights);
      const inputs = row.inputs as { metrics: never; learning_config: unknown };
      const config = resolveLearningConfig(inputs.learning_config);
      state = learningStep({ state, metrics: inputs.metrics, config, creditExploration: row.iterationNumber === 0 }).state;
      state = JSON.parse(JSON.stringify(state)) as LearnedState;
      expect(row.weightsAfter).toEqual(state.weights);
      expect(row.neuromodulatorsAfter).toEqual(state.neuromodulators);
    }
    for (const [i, response] of responses.entries()) expect(response.weights).toEqual(rows[i + 1]!.weightsAfter);
    // Every step's appends committed exactly once (token sums of one statement are added up, not overwritten).
    expect(await store.usage.used(scope.tenantId, 'tokens', windowStart)).toBe(Array.from({ length: 13 }, (_, i) => 10 + i).reduce((a, b) => a + b, 0));
    expect((await brain.getState(scope)).learning_version).toBe(13);
  });

  it("gives each gathered step its own outcome when one of them cannot be written", async () => {
    const scope = await insertTenantWithCapsule(database);
    const store = createDrizzleStore(database);
    const brain = createLocalBrain({ database, clock });
    const windowStart = new Date('2026-11-24T00:00:00Z');
    const ok = async (_response: unknown, transaction: unknown) => store.joinTransaction(transaction).usage.addTokens(scope.tenantId, windowStart, 1);
    await brain.publishTurnMetrics(metricsFor(0, scope), { appendOnly: true, persist: ok });
    // A tenant that does not exist: its usage row breaks a foreign key, whichever statement carries it.
    const bad = async (_response: unknown, transaction: unknown) => store.joinTransaction(transaction).usage.addTokens(randomUUID(), windowStart, 1);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => brain.publishTurnMetrics(metricsFor(i + 1, scope), { appendOnly: true, persist: i === 3 ? bad : ok })),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(await store.usage.used(scope.tenantId, 'tokens', windowStart)).toBe(6);
    const rows = await database.db.select().from(tables.learningUpdates).where(eq(tables.learningUpdates.capsuleId, scope.capsuleId)).orderBy(asc(tables.learningUpdates.seq));
    expect(rows.map((row) => row.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    for (let i = 1; i < rows.length; i += 1) expect(rows[i]!.weightsBefore).toEqual(rows[i - 1]!.weightsAfter);
  });

  it('leaves out of the statement a gathered step whose caller refuses before writing: the others commit together, the chain without it', async () => {
    const scope = await insertTenantWithCapsule(database);
    const store = createDrizzleStore(database);
    const brain = createLocalBrain({ database, clock });
    const windowStart = new Date('2026-11-24T00:00:00Z');
    const transactions: unknown[] = [];
    const ok = async (_response: unknown, transaction: unknown) => {
      transactions.push(transaction);
      await store.joinTransaction(transaction).usage.addTokens(scope.tenantId, windowStart, 1);
    };
    await brain.publishTurnMetrics(metricsFor(0, scope), { appendOnly: true, persist: ok });
    const refusal = Object.assign(new SomaError('CONFLICT', 'not with these'), { refusedBeforeWrite: true });
    const refuse = async () => {
      throw refusal;
    };
    const outcomes = await Promise.allSettled([1, 2, 3].map((i) => brain.publishTurnMetrics(metricsFor(i, scope), { appendOnly: true, persist: i === 2 ? refuse : ok })));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBe(refusal);
    // One statement for the two that wrote (the same transaction handed to both), nothing of the refused one.
    expect(transactions[1]).toBe(transactions[2]);
    expect(await store.usage.used(scope.tenantId, 'tokens', windowStart)).toBe(3);
    const rows = await database.db.select().from(tables.learningUpdates).where(eq(tables.learningUpdates.capsuleId, scope.capsuleId)).orderBy(asc(tables.learningUpdates.seq));
    expect(rows.map((row) => row.seq)).toEqual([1, 2, 3]);
    for (let i = 1; i < rows.length; i += 1) expect(rows[i]!.weightsBefore).toEqual(rows[i - 1]!.weightsAfter);
    expect((await brain.getState(scope)).learning_version).toBe(3);
  });

  it('keeps one linear chain under 25 concurrent learning steps on one capsule', async () => {
    const scope = await insertTenantWithCapsule(database);
    const brain = createLocalBrain({ database, clock, metrics: { observeLearningLatency: (s) => observed.push(s), countLearningSkipped: () => (skipped += 1) } });
    expect(brain.health()).toBe('unknown');
    const requests = Array.from({ length: 25 }, (_, i) => metricsFor(i, scope));
    const responses = await Promise.all(requests.map((request) => brain.publishTurnMetrics(request)));
    expect(brain.health()).toBe('healthy');
    expect(responses.map((r) => r.seq).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));

    const rows = await database.db.select().from(tables.learningUpdates).where(eq(tables.learningUpdates.capsuleId, scope.capsuleId)).orderBy(asc(tables.learningUpdates.seq));
    expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    const start = defaultLearnedState();
    expect(rows[0]!.weightsBefore).toEqual(start.weights);
    expect(rows[0]!.baselineBefore).toBe(start.rewardBaseline);
    for (let i = 1; i < rows.length; i += 1) {
      expect(rows[i]!.weightsBefore).toEqual(rows[i - 1]!.weightsAfter);
      expect(rows[i]!.neuromodulatorsBefore).toEqual(rows[i - 1]!.neuromodulatorsAfter);
      expect(rows[i]!.baselineBefore).toBe(rows[i - 1]!.baselineAfter);
    }
    // Every row is exactly the pure step from its before-state and recorded inputs (replayable).
    for (const row of rows) {
      const before: LearnedState = { weights: row.weightsBefore as never, neuromodulators: row.neuromodulatorsBefore as never, rewardBaseline: row.baselineBefore };
      const inputs = row.inputs as { metrics: never; learning_config: unknown };
      const again = learningStep({ state: before, metrics: inputs.metrics, config: resolveLearningConfig(inputs.learning_config) });
      expect(again.state.weights).toEqual(row.weightsAfter);
      expect(again.state.neuromodulators).toEqual(row.neuromodulatorsAfter);
      expect(again.reward).toBe(row.reward);
    }
    const last = rows.at(-1)!;
    const state = await brain.getState(scope);
    expect(state.learning_version).toBe(25);
    expect(state.weights).toEqual(last.weightsAfter);
    expect(state.neuromodulators).toEqual(last.neuromodulatorsAfter);
    expect(state.rewardBaseline).toBe(last.baselineAfter);
    // Each response's before-state is the row it appended.
    for (const response of responses) {
      const row = rows[response.seq! - 1]!;
      expect(response.before!.weights).toEqual(row.weightsBefore);
      expect(response.after!.weights).toEqual(row.weightsAfter);
      expect(response.weights).toEqual(row.weightsAfter);
    }
    expect(observed.length).toBe(25);
    expect(skipped).toBe(0);
  });

  it('hides capsules of other tenants and rejects bad input before writing', async () => {
    const mine = await insertTenantWithCapsule(database);
    const other = await insertTenantWithCapsule(database);
    const brain = createLocalBrain({ database, clock });
    expect(await codeOf(brain.publishTurnMetrics({ ...metricsFor(1, mine), tenant: other.tenantId }))).toBe('CAPSULE_NOT_FOUND');
    expect(await codeOf(brain.getState({ tenantId: other.tenantId, capsuleId: mine.capsuleId }))).toBe('CAPSULE_NOT_FOUND');
    expect(await codeOf(brain.getState({ tenantId: mine.tenantId, capsuleId: 'not-a-uuid' }))).toBe('CAPSULE_NOT_FOUND');
    expect(await codeOf(brain.remember({ tenantId: other.tenantId, capsuleId: mine.capsuleId }, { key: 'k', content: 'c' }))).toBe('CAPSULE_NOT_FOUND');
    expect(await codeOf(brain.publishTurnMetrics({ ...metricsFor(1, mine), latency_ms: Number.NaN }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(brain.publishTurnMetrics({ ...metricsFor(1, mine), turn_id: 'turn-1' }))).toBe('VALIDATION_FAILED');
    expect((await brain.getState(mine)).learning_version).toBe(0);
  });

  it('learns with the capsule’s own learning_config', async () => {
    const scope = await insertTenantWithCapsule(database, { learningConfig: { update_rule: 'gain' } });
    const brain = createLocalBrain({ database, clock });
    const response = await brain.publishTurnMetrics({ ...metricsFor(0, scope), confidence: 0.95, novelty: 0.9 });
    expect(response.learned).toBe(true);
    // The gain rule moves α up on a positive advantage whatever the seed.
    expect(response.weights.alpha).toBeGreaterThan(1);
    expect(response.weights.gamma).toBeLessThan(0.1);
  });

  it('remembers by key and recalls by full-text similarity, importance and recency', async () => {
    const scope = await insertTenantWithCapsule(database);
    const other = await insertTenantWithCapsule(database);
    const brain = createLocalBrain({ database, clock });
    now = Date.parse('2026-11-01T12:00:00Z');
    await brain.remember(scope, { key: 'wifi', content: 'The office wifi password is heron-42', importance: 0.5 });
    await brain.remember(scope, { key: 'billing', content: 'Billing questions go to billing@example.com', importance: 0.5 });
    await brain.remember(scope, { key: 'parking', content: 'Parking is on level 3 of the garage', importance: 0.5 });
    await brain.remember(other, { key: 'wifi', content: 'Another tenant wifi password is secret', importance: 1 });
    now = Date.parse('2026-11-24T12:00:00Z');

    const wifi = await brain.recall(scope, { query: 'what is the wifi password?', top_k: 2 });
    expect(wifi[0]!.key).toBe('wifi');
    expect(wifi[0]!.content).toContain('heron-42');
    expect(wifi.length).toBe(2);
    expect(wifi[0]!.score).toBeGreaterThan(wifi[1]!.score);
    expect(wifi.every((memory) => !memory.content.includes('secret'))).toBe(true);

    // Restating a key replaces the memory (upsert) and makes it recent again.
    await brain.remember(scope, { key: 'wifi', content: 'The office wifi password is now falcon-77', importance: 0.5 });
    const again = await brain.recall(scope, { query: 'wifi password', top_k: 5 });
    expect(again.filter((memory) => memory.key === 'wifi')).toHaveLength(1);
    expect(again[0]!.content).toContain('falcon-77');

    // With no word in common, importance and recency decide.
    await brain.remember(scope, { key: 'vital', content: 'Escalations need a manager', importance: 1 });
    const unrelated = await brain.recall(scope, { query: 'zebra', top_k: 10 });
    expect(unrelated[0]!.key).toBe('vital');

    // Recall follows the weights it is given: with α = 0 and a high γ the newest memory wins over the match.
    const byRecency = await brain.recall(scope, { query: 'parking garage', top_k: 1, weights: { ...defaultLearnedState().weights, alpha: 0, beta: 0, gamma: 1 } });
    expect(byRecency[0]!.key).not.toBe('parking');
    const bySimilarity = await brain.recall(scope, { query: 'parking garage', top_k: 1 });
    expect(bySimilarity[0]!.key).toBe('parking');
  });

  it('recalls from a bounded candidate set: with many matches the best by the weights, the newest memories and a rare old fact', async () => {
    const scope = { ...(await insertTenantWithCapsule(database, { learningConfig: { memory_limit: 100_000, recency_half_life_s: 600 } })), userId: 'ann' };
    const brain = createLocalBrain({ database, clock });
    now = Date.parse('2026-11-24T12:00:00Z');
    // 1,500 memories, one a minute back in time: the 16 newest match nothing; the other 1,484 all match
    // "printer toner" equally (same wording), so the candidates are the newest RECALL_MATCHES of them and
    // only importance and recency tell those apart. Eight "stars" of high importance sit among the
    // candidates but not at their front, a ninth deeper than the candidates; one rare fact is far older
    // than the window.
    const count = RECALL_WINDOW * 3;
    const stars = new Map(Array.from({ length: 8 }, (_, k) => [40 + k * 5, 0.99 - k * 0.01]));
    const deepStar = 16 + RECALL_MATCHES + 100;
    stars.set(deepStar, 1);
    const rows = Array.from({ length: count }, (_, i) => {
      const base = { id: randomUUID(), tenantId: scope.tenantId, capsuleId: scope.capsuleId, userId: scope.userId, createdAt: new Date(now - i * 60_000) };
      if (i < 16) return { ...base, key: `recent-${i}`, content: `lunch menu item ${i}`, importance: 0 };
      if (i === RECALL_WINDOW * 2 + 300) return { ...base, key: 'garage', content: 'the garage door code is 4711', importance: 0.3 };
      return { ...base, key: `printer-${i}`, content: `printer note ${i}: toner code ${i}`, importance: stars.get(i) ?? (i < RECALL_WINDOW ? 0.4 : 0.45) };
    });
    for (let from = 0; from < rows.length; from += 500) await database.db.insert(tables.memories).values(rows.slice(from, from + 500));
    const weights = defaultLearnedState().weights;

    // By similarity and importance: the eight stars, best first — not the newest of the 1,484 matches.
    const byImportance = await brain.recall(scope, { query: 'printer toner', top_k: 8, weights: { ...weights, alpha: 1, beta: 1, gamma: 0 } });
    // The star deeper than the candidates is not among them: the bound is the newest matches of equal text rank.
    const candidateStars = [...stars.keys()].filter((i) => i !== deepStar);
    expect(byImportance.map((memory) => memory.key)).toEqual(candidateStars.map((i) => `printer-${i}`));
    expect(byImportance.every((memory) => memory.similarity === 1)).toBe(true);

    // By recency (half-life 10 minutes): the newest memories come back although they match no word.
    const byRecency = await brain.recall(scope, { query: 'printer toner', top_k: 3, weights: { ...weights, alpha: 0.1, beta: 0, gamma: 1 } });
    expect(byRecency.map((memory) => memory.key)).toEqual(['recent-0', 'recent-1', 'recent-2']);
    // All three weights: the stars (c ≈ 1 + 0.99…0.92), then the newest matches (c = 1 + 0.4 + recency), in order of c.
    const mixed = await brain.recall(scope, { query: 'printer toner', top_k: 16, weights: { ...weights, alpha: 1, beta: 1, gamma: 1 } });
    expect(mixed.map((memory) => memory.key)).toEqual([...candidateStars.map((i) => `printer-${i}`), ...Array.from({ length: 8 }, (_, k) => `printer-${16 + k}`)]);

    // A fact 1,300 memories older than the window is still found through the full-text index.
    const garage = await brain.recall(scope, { query: 'garage door', top_k: 1 });
    expect(garage.map((memory) => memory.key)).toEqual(['garage']);
    expect(garage[0]!.content).toContain('4711');
  });

  it('recalls from the window it keeps what any process wrote, restated or dropped since: the memories a walk of the scope gives', async () => {
    const words = ['printer', 'toner', 'garage', 'door', 'code', 'the', 'running', 'cats', 'note', 'lunch', 'menu', '7', '42'];
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = () => words[Math.floor(random() * words.length)]!;
    const weights = { ...defaultLearnedState().weights, alpha: 1, beta: 0.5, gamma: 0.5 };
    const queries = ['printer toner', 'garage door code', 'the', 'running cats note', '42', ''];
    now = Date.parse('2026-11-24T12:00:00Z');

    const check = async (scope: { tenantId: string; capsuleId: string; userId: string }, limit: number, mine: ReturnType<typeof createLocalBrain>) => {
      const config = resolveLearningConfig({ memory_limit: limit });
      for (const query of queries) {
        // The walk of the scope in PostgreSQL, as every recall did before windows were kept.
        const walked = await recallMemories(database, clock, { scope, config, state: undefined, query: { query, top_k: 12, weights } });
        expect(await mine.recall(scope, { query, top_k: 12, weights })).toEqual(walked);
      }
    };
    // A scope within memory_limit 40: another process (another brain) writes, restates and — past the
    // limit — drops memories between this process's recalls, through the API and as clauses of statements.
    const small = { ...(await insertTenantWithCapsule(database, { learningConfig: { memory_limit: 40 } })), userId: 'ann' };
    // This process's statements: once it holds a window, a recall reads what changed, not the window's rows.
    const sent: string[] = [];
    const mine = createLocalBrain({ database: { ...database, run: (statement) => (sent.push(statement.text), database.run(statement)) }, clock });
    const other = createLocalBrain({ database, clock });
    for (let round = 0; round < 6; round++) {
      const batch = new StatementBatch(database.db);
      const inBatch = new Set<string>();
      for (let i = 0; i < 14; i++) {
        now += 1_000;
        let key = `k${Math.floor(random() * 60)}`;
        // One statement restates a key at most once (as a turn's close writes one memory).
        while (i % 2 === 1 && inBatch.has(key)) key = `k${Math.floor(random() * 60)}`;
        if (i % 2 === 1) inBatch.add(key);
        const memory = { key, content: Array.from({ length: 3 + Math.floor(random() * 12) }, pick).join(' '), importance: random() };
        if (i % 2 === 0) await other.remember(small, memory);
        else expect(other.rememberWith!(batch, small, memory, { learningConfig: { memory_limit: 40 } })).toBe(true);
      }
      await database.run(statementOf(batch));
      await check(small, 40, mine);
    }
    const count = async (scope: { capsuleId: string }) => (await database.db.select().from(tables.memories).where(eq(tables.memories.capsuleId, scope.capsuleId))).length;
    expect(await count(small)).toBeLessThanOrEqual(40 + 7);

    // A scope larger than the window: the window is held full, memories come in at its front and push
    // the oldest out, one restated from beyond the window comes back into it, and older facts are still found.
    const large = { ...(await insertTenantWithCapsule(database)), userId: 'bob' };
    const writeBatch = async (from: number, n: number, content: (i: number) => string) => {
      const batch = new StatementBatch(database.db);
      for (let i = from; i < from + n; i++) {
        now += 1_000;
        other.rememberWith!(batch, large, { key: `m${i}`, content: content(i), importance: (i % 10) / 10 }, { learningConfig: {} });
      }
      await database.run(statementOf(batch));
    };
    for (let from = 0; from < RECALL_WINDOW - 20; from += 120) await writeBatch(from, Math.min(120, RECALL_WINDOW - 20 - from), (i) => (i === 3 ? 'the garage door code is 4711' : `printer note ${i} ${pick()} ${pick()}`));
    await check(large, 10_000, mine);
    await writeBatch(RECALL_WINDOW - 20, 60, (i) => `printer toner ${i} ${pick()}`);
    await check(large, 10_000, mine);
    await writeBatch(10, 1, () => 'printer toner restated from beyond the window');
    await check(large, 10_000, mine);
    expect((await mine.recall(large, { query: 'code 4711', top_k: 1, weights })).map((memory) => memory.key)).toEqual(['m3']);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((text) => text.includes('with walk as'))).toEqual([]);
  });

  it('keeps each memory scope within memory_limit, evicting the lowest importance × recency first', async () => {
    const scope = { ...(await insertTenantWithCapsule(database, { learningConfig: { memory_limit: 3 } })), userId: 'ann' };
    const brain = createLocalBrain({ database, clock });
    now = Date.parse('2026-11-01T12:00:00Z');
    await brain.remember(scope, { key: 'old-important', content: 'old but important', importance: 1 });
    await brain.remember(scope, { key: 'old-minor', content: 'old and minor', importance: 0.2 });
    now = Date.parse('2026-11-24T12:00:00Z');
    await brain.remember(scope, { key: 'new-minor', content: 'new and minor', importance: 0.2 });
    await brain.remember(scope, { key: 'new-important', content: 'new and important', importance: 0.9 });
    // Another user's memories are another scope: not counted, not evicted.
    await brain.remember({ ...scope, userId: 'bob' }, { key: 'bob', content: 'bob only', importance: 0 });
    const keys = (await database.db.select({ key: tables.memories.key, user: tables.memories.userId }).from(tables.memories).where(eq(tables.memories.capsuleId, scope.capsuleId))).map((m) => `${m.user}:${m.key}`).sort();
    expect(keys).toEqual(['ann:new-important', 'ann:new-minor', 'ann:old-important', 'bob:bob']);
    expect((await brain.recall(scope, { query: 'bob only', top_k: 10 })).map((m) => m.key)).not.toContain('bob');
  });

  it("writes a memory as a clause of the caller's statement (it commits or fails with it) and keeps memory_limit within a second", async () => {
    const scope = { ...(await insertTenantWithCapsule(database, { learningConfig: { memory_limit: 2 } })), userId: 'ann' };
    const brain = createLocalBrain({ database, clock });
    const known = { learningConfig: { memory_limit: 2 } };
    const keysOf = async () => (await database.db.select({ key: tables.memories.key }).from(tables.memories).where(eq(tables.memories.capsuleId, scope.capsuleId))).map((m) => m.key).sort();
    // Not a statement being collected: the caller remembers apart.
    expect(brain.rememberWith!({}, scope, { key: 'k', content: 'c' }, known)).toBe(false);
    expect(() => brain.rememberWith!(new StatementBatch(database.db), scope, { key: '', content: 'c' }, known)).toThrow(/non-empty key/);
    // A statement that aborts writes no memory.
    const aborted = new StatementBatch(database.db);
    expect(brain.rememberWith!(aborted, scope, { key: 'lost', content: 'never stored', importance: 0.9 }, known)).toBe(true);
    await expect(database.run(statementOf(aborted, { head: [{ name: 'never', text: 'select 1 where false', values: [] }], headConditional: ['never'] }))).rejects.toThrow();
    expect(await keysOf()).toEqual([]);
    now = Date.parse('2026-11-01T12:00:00Z');
    for (const [key, importance] of [['a', 0.9], ['b', 0.1], ['c', 0.8]] as const) {
      const batch = new StatementBatch(database.db);
      expect(brain.rememberWith!(batch, scope, { key, content: `memory ${key}`, importance }, known)).toBe(true);
      await database.run(statementOf(batch));
    }
    // Committed with the statement; the limit (2) is applied off the path, within about a second.
    expect(await keysOf()).toEqual(['a', 'b', 'c']);
    await expect.poll(keysOf, { timeout: 5_000, interval: 100 }).toEqual(['a', 'c']);
  });

  it('evicts by recency also with a denormal half-life and a memory billions of half-lives old (no float underflow)', async () => {
    const scope = { ...(await insertTenantWithCapsule(database, { learningConfig: { memory_limit: 1, recency_half_life_s: 5e-324 } })), userId: 'ann' };
    const brain = createLocalBrain({ database, clock });
    now = Date.parse('2026-11-01T12:00:00Z');
    await brain.remember(scope, { key: 'old', content: 'very old', importance: 1 });
    now = Date.parse('2026-11-24T12:00:00Z');
    await brain.remember(scope, { key: 'new', content: 'brand new', importance: 0.5 });
    const keys = (await database.db.select({ key: tables.memories.key }).from(tables.memories).where(eq(tables.memories.capsuleId, scope.capsuleId))).map((m) => m.key);
    expect(keys).toHaveLength(1);
  });

  it('answers a repeated step (same turn, iteration and source) from the history and appends nothing', async () => {
    const scope = await insertTenantWithCapsule(database);
    const brain = createLocalBrain({ database, clock });
    const request = { ...metricsFor(3, scope), iteration_number: 0 };
    const first = await brain.publishTurnMetrics(request);
    const again = await brain.publishTurnMetrics({ ...request, confidence: 0.1 });
    expect(again).toMatchObject({ seq: first.seq, replayed: true, weights: first.weights, reward: first.reward });
    const feedback = await brain.publishTurnMetrics({ ...request, source: 'feedback', iteration_number: 1, feedback_total: 1 });
    expect(feedback.seq).toBe(first.seq! + 1);
    expect((await brain.getState(scope)).learning_version).toBe(2);
  });
});
