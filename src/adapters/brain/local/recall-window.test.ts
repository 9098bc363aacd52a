import { describe, expect, it } from 'vitest';
import { queryVector, RecallWindows, type ChangedRow } from './recall-window.js';

const row = (id: string, createdMs: number, search: string, content = id): ChangedRow => ({ id, key: id, content, importance: 0.5, created_ms: createdMs, recalled_ms: null, search });

describe('RecallWindows', () => {
  it('keeps a scope’s newest rows: changed rows come in front, a restated one replaces its older copy, the oldest fall out of the window and its postings', () => {
    const windows = new RecallWindows(3);
    windows.update('s', { version: 1, epoch: 0, fresh: true, changed: [row('a', 1, "'printer':1"), row('b', 2, "'toner':1"), row('c', 3, "'printer':2")] });
    const next = windows.update('s', { version: 2, epoch: 0, fresh: false, changed: [row('d', 4, "'garage':1"), row('a', 5, "'door':1", 'a restated')] })!;
    expect(next.rows.map((r) => [r.id, r.content])).toEqual([
      ['a', 'a restated'],
      ['d', 'd'],
      ['c', 'c'],
    ]);
    expect(next.version).toBe(2);
    // b was pushed out; the restated a no longer holds "printer"; c does.
    expect([...(next.postings.get('printer')?.keys() ?? [])].map((r) => r.id)).toEqual(['c']);
    expect(next.postings.has('toner')).toBe(false);
    expect(queryVector(next, next.rows[0]!, ['door', 'printer'])).toEqual(new Map([['door', 1]]));
  });

  it('refuses an answer it cannot merge: another epoch, more changes than the window, no window held', () => {
    const windows = new RecallWindows(2);
    expect(windows.update('s', { version: 1, epoch: 0, fresh: false, changed: [] })).toBeUndefined();
    windows.update('s', { version: 1, epoch: 0, fresh: true, changed: [row('a', 1, "'x':1")] });
    expect(windows.update('s', { version: 2, epoch: 1, fresh: false, changed: [] })).toBeUndefined();
    expect(windows.update('s', { version: 5, epoch: 0, fresh: false, changed: [row('b', 2, "'x':1"), row('c', 3, "'x':1"), row('d', 4, "'x':1")] })).toBeUndefined();
    expect(windows.get('s')!.rows.map((r) => r.id)).toEqual(['a']);
  });

  it('holds at most maxRows memories over all scopes, dropping the least recently recalled scope first', () => {
    const windows = new RecallWindows(3, 5);
    windows.update('a', { version: 1, epoch: 0, fresh: true, changed: [row('a1', 1, "'x':1"), row('a2', 2, "'x':1")] });
    windows.update('b', { version: 1, epoch: 0, fresh: true, changed: [row('b1', 1, "'x':1"), row('b2', 2, "'x':1")] });
    windows.get('a');
    windows.update('c', { version: 1, epoch: 0, fresh: true, changed: [row('c1', 1, "'x':1"), row('c2', 2, "'x':1")] });
    expect(windows.get('b')).toBeUndefined();
    expect(windows.get('a')?.rows).toHaveLength(2);
    expect(windows.get('c')?.rows).toHaveLength(2);
  });
});
