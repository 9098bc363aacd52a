import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChat } from '../../src/entry/cli/chat-command.js';
import { startTestSoma, type TestSoma } from '../support/soma.js';

/** `soma chat`: `/good` and `/bad` rate the last answer through `POST /v1/turns/:turn_id/feedback`. */
describe('soma chat feedback commands', () => {
  let t: TestSoma;
  let url: string;
  let key: string;

  beforeAll(async () => {
    t = await startTestSoma({ driver: 'pglite', script: { turns: [{ iterations: [{ text: 'Hello there.', confidence: 0.8, final: true }] }] } });
    url = `http://127.0.0.1:${(await t.soma.listen({ port: 0, host: '127.0.0.1' })).port}`;
    key = (await t.tenant()).api_key;
  });
  afterAll(async () => t?.close());

  it('/good then /bad stores the latest score of the last turn and learns from each change', async () => {
    const output = new PassThrough();
    let text = '';
    output.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const stateFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'soma-chat-')), 'chat.json');
    await runChat({ url, apiKey: key, stateFile, input: Readable.from(['/good\n', 'hi\n', '/good\n', '/good\n', '/bad\n']), output });
    expect(text).toContain('no answer to rate yet');
    expect(text).toContain('feedback 👍 recorded (learning applied');
    expect(text).toContain('feedback unchanged');
    expect(text).toContain('feedback 👎 recorded');
    const rows = await t.soma.database.query<{ score: number; revision: number }>(sql`select score, revision from turn_feedback`);
    expect(rows).toEqual([{ score: -1, revision: 2 }]);
    const [{ n } = { n: 0 }] = await t.soma.database.query<{ n: number }>(sql`select count(*)::int as n from learning_updates where source = 'feedback'`);
    expect(n).toBe(2);
  });
});
