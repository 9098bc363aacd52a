import { describe, expect, it } from 'vitest';
import { apply, type LiveTurn } from './live-turn';

describe('the live turn of the chat', () => {
  it('takes the threshold the turn stops at from turn.started (an operator override, not the capsule’s)', () => {
    const turn: LiveTurn = { userText: 'What is 6*7?', iterations: [] };
    const started = apply(turn, { event: 'turn.started', data: { turn_id: 't1', convergence_threshold: 0.9 } });
    expect(started).toMatchObject({ turnId: 't1', threshold: 0.9 });
    // A server that does not say keeps the capsule's threshold in charge (no threshold on the turn).
    expect(apply(turn, { event: 'turn.started', data: { turn_id: 't2' } }).threshold).toBeUndefined();
  });
});
