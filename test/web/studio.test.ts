import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath } from '../support/browser.js';
import { ADMIN_TOKEN, spawnServer } from '../support/soma.js';

const executablePath = chromiumPath();
const screenshots = path.resolve('.cache/screenshots');
/** The browser globals the in-page functions use (the suite's TypeScript has no DOM library). */
interface InPage {
  document: { querySelector(selector: string): { textContent: string | null } | null; querySelectorAll(selector: string): { length: number } };
  sessionStorage: { length: number };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The scripted model: three iterations streamed at 40 tokens/s, the first calls the calculator. */
const script = {
  turns: [
    {
      match: '6*7',
      iterations: [
        { text: 'Let me work out 6*7 with the calculator before I answer.', tool_calls: [{ name: 'calculator', args: { expression: '6*7' } }], logprobs: [-0.4, -0.3], tokens_per_s: 40 },
        { text: 'The calculator says 6*7 is 42, so the answer is 42.', logprobs: [-0.3, -0.2], tokens_per_s: 40 },
        { text: 'The calculator says 6*7 is 42, so the answer is 42.', logprobs: [-0.01, -0.02], tokens_per_s: 40 },
      ],
    },
    { iterations: [{ text: 'Hello!', confidence: 0.9, final: true }] },
  ],
};

describe.skipIf(!executablePath)('Soma Studio in Chromium', () => {
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let apiKey: string;
  let dataDir: string;
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];
  let capsuleId = '';
  let turnId = '';

  const shot = async (name: string) => {
    await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
  };

  /** axe-core on the current page: no serious or critical violation. */
  const accessible = async (label: string) => {
    await page.evaluate(axeSource);
    const result = await page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: unknown }[] }[] }> } }).axe;
      const { violations } = await axe.run((globalThis as unknown as InPage).document, { resultTypes: ['violations'] });
      return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} — ${JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))}`);
    });
    expect(result, `axe on ${label}`).toEqual([]);
  };

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-web.mjs', '--if-stale'], { stdio: 'inherit' });
    mkdirSync(screenshots, { recursive: true });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'soma-studio-'));
    const scriptFile = path.join(dataDir, 'script.json');
    writeFileSync(scriptFile, JSON.stringify(script));
    const env: NodeJS.ProcessEnv = { ...process.env, SOMA_MODEL: `scripted:${scriptFile}`, SOMA_ALLOW_SCRIPTED_MODELS: 'true', SOMA_DATA_DIR: dataDir, SOMA_ADMIN_TOKEN: ADMIN_TOKEN, SOMA_LOG_LEVEL: 'info' };
    for (const name of ['DATABASE_URL', 'KAFKA_BROKERS', 'OPA_URL', 'SOMA_BRAIN_URL', 'OTEL_EXPORTER_OTLP_ENDPOINT']) delete env[name];
    server = await spawnServer(env);
    // What a person does on the embedded default: read the key `soma serve` wrote.
    apiKey = readFileSync(path.join(dataDir, 'api-key'), 'utf8').trim();
    browser = await chromium.launch({ executablePath, args: chromiumArgs, headless: true });
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'light' });
    const origin = new URL(server.url).origin;
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      foreignRequests.push(url);
      return route.abort();
    });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name });

  it('signs in with the API key and explains where the embedded key file is', async () => {
    await page.goto(server.url);
    await page.waitForURL(/\/signin/);
    await expect.poll(() => heading('Soma Studio').isVisible()).toBe(true);
    await expect.poll(() => page.getByTestId('key-file-hint').textContent()).toContain('api-key');
    await accessible('sign-in');
    await shot('01-sign-in');
    await page.getByLabel('API key').fill(apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/chat$/);
    await expect.poll(() => heading('Chat').isVisible()).toBe(true);
    expect(await page.evaluate(() => (globalThis as unknown as InPage).sessionStorage.length)).toBe(1);
  });

  it('creates a capsule with the calculator, showing the server’s validation errors in place first', async () => {
    await page.getByRole('link', { name: 'Capsules', exact: true }).click();
    await expect.poll(() => heading('Capsules').isVisible()).toBe(true);
    await page.getByRole('link', { name: 'New capsule' }).click();
    await expect.poll(() => heading('New capsule').isVisible()).toBe(true);
    await page.getByLabel('Name').fill('Calculator agent');
    await page.getByLabel('System prompt').fill('You answer arithmetic questions; use the calculator.');
    await page.getByRole('checkbox', { name: 'calculator' }).check();
    await page.getByLabel('Minimum iterations').fill('5');
    await page.getByLabel('Maximum iterations').fill('3');
    await page.getByRole('button', { name: 'Create capsule' }).click();
    await expect.poll(() => page.getByTestId('error-rlm_min_iterations').textContent()).toContain('must not exceed');
    expect(await page.getByLabel('Minimum iterations').getAttribute('aria-invalid')).toBe('true');
    // The browser reports the refused request itself in the console; that one is expected.
    const refused = consoleErrors.findIndex((e) => e.includes('status of 400') && e.includes('/v1/capsules'));
    expect(refused).toBeGreaterThanOrEqual(0);
    consoleErrors.splice(refused, 1);
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('The server refused the capsule');
    await shot('02-capsule-validation');

    await page.getByLabel('Minimum iterations').fill('1');
    await page.getByLabel('Maximum iterations').fill('5');
    await page.getByRole('button', { name: 'Create capsule' }).click();
    await page.waitForURL(/\/capsules\/[0-9a-f-]{36}/);
    capsuleId = /\/capsules\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    await expect.poll(() => heading('Capsule Calculator agent').isVisible()).toBe(true);
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Capsule created');
    expect(await page.getByRole('checkbox', { name: 'calculator' }).isChecked()).toBe(true);
    await accessible('capsule editor');
    await shot('03-capsule-editor');

    await page.getByRole('link', { name: 'Capsules', exact: true }).click();
    await expect.poll(() => page.getByRole('row', { name: /Calculator agent/ }).textContent()).toContain('calculator');
    await accessible('capsules');
    await shot('04-capsules');
  });

  it('chats "What is 6*7?" and shows the iterations live as they stream, then the answer', async () => {
    await page.getByRole('link', { name: 'Chat with Calculator agent' }).click();
    await expect.poll(() => page.getByLabel('Capsule').inputValue()).toBe(capsuleId);
    await page.getByLabel('Title (optional)').fill('Arithmetic');
    await page.getByRole('button', { name: 'New conversation' }).click();
    await page.waitForURL(/\/chat\/[0-9a-f-]{36}/);
    await expect.poll(() => heading('Arithmetic').isVisible()).toBe(true);

    await page.getByLabel('Message').fill('What is 6*7?');
    await page.getByLabel('Message').press('Enter');

    // Live: the first draft is seen part-way through, while the turn is still running.
    const full = script.turns[0]!.iterations[0]!.text;
    await page.waitForFunction(
      (text) => {
        const draft = (globalThis as unknown as InPage).document.querySelector('[data-testid="live-turn"] [data-testid="iteration"][data-iteration="0"] [data-testid="iteration-draft"]');
        const seen = draft?.textContent ?? '';
        return seen.length > 0 && seen.length < text.length && text.startsWith(seen);
      },
      full,
      { polling: 'raf' },
    );
    // A second iteration appears while the turn is still streaming.
    await page.waitForFunction(() => (globalThis as unknown as InPage).document.querySelectorAll('[data-testid="live-turn"][aria-busy="true"] [data-testid="iteration"]').length >= 2, undefined, { polling: 'raf' });
    await shot('05-chat-streaming');

    const turn = page.getByTestId('turn').last();
    await expect.poll(() => turn.getByTestId('answer').textContent(), { timeout: 20_000 }).toContain('The calculator says 6*7 is 42, so the answer is 42.');
    expect(await turn.getByTestId('iteration').count()).toBe(3);
    expect(await turn.getByTestId('tool-call').first().textContent()).toContain('calculator({"expression":"6*7"})');
    expect(await turn.getByTestId('tool-call').first().textContent()).toContain('42');
    expect(await turn.getByTestId('iteration').first().textContent()).toMatch(/Confidence\s*0\.\d\d/);
    expect(await turn.getByTestId('answer').textContent()).toContain('converged');
    turnId = (await turn.getAttribute('data-turn-id'))!;
    expect(turnId).toMatch(/^[0-9a-f-]{36}$/);
    await expect.poll(() => page.getByRole('link', { name: /Arithmetic/ }).textContent()).toContain('2 messages');
    await accessible('chat');
    await shot('06-chat');
  });

  it('opens the trace: timeline, the scores chart against the threshold, and a draft diff', async () => {
    await page.getByTestId('turn').last().getByRole('link', { name: 'Trace' }).click();
    await page.waitForURL(new RegExp(`/trace/${turnId}`));
    await expect.poll(() => heading(/Trace of turn/).isVisible()).toBe(true);
    await expect.poll(() => page.getByTestId('exit-reason').textContent()).toBe('converged');
    await expect.poll(() => page.getByTestId('scores-chart').locator('canvas').count()).toBe(1);
    expect(await page.getByTestId('scores-chart').textContent()).toContain('threshold 0.9');
    expect(await page.getByTestId('trace-iteration').count()).toBe(3);
    const diff = page.getByTestId('draft-diff').first();
    expect(await diff.locator('ins').count()).toBeGreaterThan(0);
    expect(await diff.locator('del').count()).toBeGreaterThan(0);
    expect(await page.getByRole('listitem').filter({ hasText: 'calculator' }).first().textContent()).toContain('allowed');
    await page.getByRole('button', { name: 'Show the raw model output' }).first().click();
    await expect.poll(() => page.locator('pre.raw').first().textContent()).toContain('calculator');
    await accessible('trace');
    await shot('07-trace');
  });

  it('opens the learning curves, rolls back to the first point and sees the weights return', async () => {
    const start = ((await (await fetch(`${server.url}/v1/capsules/${capsuleId}/learning?limit=1`, { headers: { authorization: `Bearer ${apiKey}` } })).json()) as { history: { weights_before: Record<string, number> }[] }).history[0]!.weights_before;
    await page.locator('main .page-head').getByRole('link', { name: 'Learning' }).click();
    await page.waitForURL(new RegExp(`/learning/${capsuleId}`));
    await expect.poll(() => heading('Learning of Calculator agent').isVisible()).toBe(true);
    await expect.poll(() => page.getByTestId('weights-chart').locator('canvas').count()).toBe(1);
    const shown = async () => Object.fromEntries(await page.getByTestId('current-weights').locator('td').evaluateAll((cells) => cells.map((c) => [c.getAttribute('data-name'), c.textContent])));
    const expected = Object.fromEntries(Object.entries(start).map(([k, v]) => [k, v.toFixed(4)]));
    expect(await shown()).not.toEqual(expected);
    await accessible('learning');
    await shot('08-learning-before-rollback');

    // Click the first point of the weights chart.
    const over = page.getByTestId('weights-chart').locator('.u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.click(box.x + 1, box.y + box.height / 2);
    const dialog = page.getByRole('dialog', { name: 'Roll back the learning?' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.textContent()).toContain('the start of the history');
    await shot('09-learning-confirm');
    await dialog.getByRole('button', { name: 'Roll back' }).click();
    await expect.poll(() => page.getByTestId('learning-message').textContent()).toContain('Rolled back to the start of the history');
    await expect.poll(shown).toEqual(expected);
    expect(await page.getByRole('row', { name: /rollback/ }).count()).toBeGreaterThan(0);
    await accessible('learning after rollback');
    await shot('10-learning');
    await page.emulateMedia({ colorScheme: 'dark' });
    await accessible('learning (dark)');
    await shot('11-learning-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('replays the turn and sees "identical", then a counterfactual that stops earlier', async () => {
    await page.goto(`${server.url}/trace/${turnId}`);
    await page.locator('main .page-head').getByRole('link', { name: 'Replay' }).click();
    await page.waitForURL(new RegExp(`/replay/${turnId}`));
    await page.getByRole('button', { name: 'Replay this turn' }).click();
    await expect.poll(() => page.getByTestId('replay-verdict').textContent()).toContain('Identical');
    expect(await page.getByTestId('replay-verdict').textContent()).toContain('all 3 iterations reproduced exactly');
    await page.getByLabel('Convergence threshold').fill('0.05');
    await page.getByRole('button', { name: 'Run the counterfactual' }).click();
    const whatIf = page.getByTestId('counterfactual');
    await expect.poll(() => whatIf.getByRole('row', { name: /Iterations/ }).textContent()).toMatch(/Iterations\s*3\s*[12]$/);
    await accessible('replay');
    await shot('12-replay');
  });

  it('shows events with their delivery status, and evals and approvals (or that they are not available)', async () => {
    await page.getByRole('link', { name: 'Events' }).click();
    await expect.poll(() => heading('Events').isVisible()).toBe(true);
    await expect.poll(() => page.getByRole('row', { name: /chat\.turn_complete/ }).first().textContent()).toMatch(/pending|published/);
    await accessible('events');
    await shot('13-events');
    for (const [name, file] of [
      ['Evals', '14-evals'],
      ['Approvals', '15-approvals'],
    ] as const) {
      await page.getByRole('link', { name, exact: true }).click();
      await expect.poll(() => heading(name).isVisible()).toBe(true);
      await expect.poll(async () => (await page.getByTestId('unavailable').count()) + (await page.locator('main table, main .card, main p:not(.muted)').count())).toBeGreaterThan(0);
      await accessible(name);
      await shot(file);
    }
  });

  it('approves a paused tool call from the Approvals inbox, and the turn completes', async () => {
    const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
    const capsule = (await (await fetch(`${server.url}/v1/capsules`, { method: 'POST', headers, body: JSON.stringify({ name: 'Careful calculator', system_prompt: 'Ask first.', tools: [{ name: 'calculator', requires_approval: true }] }) })).json()) as { id: string };
    const conversation = (await (await fetch(`${server.url}/v1/conversations`, { method: 'POST', headers, body: JSON.stringify({ capsule_id: capsule.id }) })).json()) as { id: string };
    const paused = await fetch(`${server.url}/v1/conversations/${conversation.id}/messages`, { method: 'POST', headers, body: JSON.stringify({ content: 'What is 6*7?' }) });
    expect(paused.status).toBe(202);
    const { turn_id: pausedTurn } = (await paused.json()) as { turn_id: string };
    await page.getByRole('link', { name: 'Events', exact: true }).click();
    await expect.poll(() => heading('Events').isVisible()).toBe(true);
    await page.getByRole('link', { name: 'Approvals', exact: true }).click();
    await expect.poll(() => heading('Approvals').isVisible()).toBe(true);
    const card = page.locator('main li.card', { hasText: 'calculator' });
    await expect.poll(() => card.first().textContent()).toContain('"expression":"6*7"');
    await accessible('approvals (pending)');
    await shot('15-approvals-pending');
    await card.first().getByLabel('Reason (optional)').fill('looks fine');
    await card.first().getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => card.first().getByRole('status').textContent()).toContain('approved');
    await expect
      .poll(async () => ((await (await fetch(`${server.url}/v1/turns/${pausedTurn}`, { headers })).json()) as { status: string }).status, { timeout: 20_000 })
      .toBe('completed');
  });

  it('is usable on a phone-sized screen and signs out', async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    await page.goto(`${server.url}/chat`);
    await expect.poll(() => heading('Chat').isVisible()).toBe(true);
    await page.getByRole('link', { name: /Arithmetic/ }).click();
    await expect.poll(() => page.getByTestId('answer').last().textContent()).toContain('42');
    await accessible('chat (phone)');
    await shot('16-chat-phone');
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/signin/);
    expect(await page.evaluate(() => (globalThis as unknown as InPage).sessionStorage.length)).toBe(0);
  });

  it('logged no console error and loaded nothing from outside the server', () => {
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });
}, 180_000);
