import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCounterFile, stdioServer } from '../fixtures/mcp-counter-server.helpers.js';
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
    { match: 'VPN', iterations: [{ text: 'Our VPN gateway is vpn.example.net.', confidence: 0.95, final: true, tokens_per_s: 40 }] },
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

  /** axe-core on the current page, in the dark and the light colour scheme: no serious or critical violation. Leaves the page light. */
  const accessible = async (label: string) => {
    await page.evaluate(axeSource);
    for (const colorScheme of ['dark', 'light'] as const) {
      await page.emulateMedia({ colorScheme });
      const result = await page.evaluate(async () => {
        const axe = (globalThis as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: unknown }[] }[] }> } }).axe;
        const { violations } = await axe.run((globalThis as unknown as InPage).document, { resultTypes: ['violations'] });
        return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} — ${JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))}`);
      });
      expect(result, `axe on ${label} (${colorScheme})`).toEqual([]);
    }
  };
  const authed = (init: { method?: string; body?: unknown } = {}): RequestInit => ({
    ...(init.method ? { method: init.method } : {}),
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const getJson = async <T>(route: string): Promise<T> => (await (await fetch(`${server.url}${route}`, authed())).json()) as T;

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-web.mjs', '--if-stale'], { stdio: 'inherit' });
    mkdirSync(screenshots, { recursive: true });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'soma-studio-'));
    const scriptFile = path.join(dataDir, 'script.json');
    writeFileSync(scriptFile, JSON.stringify(script));
    // The operator registers one MCP server; the capsule editor offers it by name.
    const mcpServers = path.join(dataDir, 'mcp-servers.json');
    writeFileSync(mcpServers, JSON.stringify({ counter: stdioServer(newCounterFile()) }));
    const env: NodeJS.ProcessEnv = { ...process.env, SOMA_MODEL: `scripted:${scriptFile}`, SOMA_ALLOW_SCRIPTED_MODELS: 'true', SOMA_MCP_SERVERS: mcpServers, SOMA_DATA_DIR: dataDir, SOMA_ADMIN_TOKEN: ADMIN_TOKEN, SOMA_LOG_LEVEL: 'info' };
    // Each capsule's own threshold (the one the Studio shows), not the orchestration tests' server-wide override.
    env.SA01_RLM_CONVERGENCE_THRESHOLD = '';
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
    const refused = consoleErrors.findIndex((e) => e.includes('status of 422') && e.includes('/v1/capsules'));
    expect(refused).toBeGreaterThanOrEqual(0);
    consoleErrors.splice(refused, 1);
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('The server refused the capsule');
    await shot('02-capsule-validation');

    await page.getByLabel('Minimum iterations').fill('1');
    await page.getByLabel('Maximum iterations').fill('5');
    // The scripted turn needs a second look: its second draft converges 0.74.
    await page.getByLabel('Convergence threshold').fill('0.9');
    await page.getByRole('button', { name: 'Create capsule' }).click();
    await page.waitForURL(/\/capsules\/[0-9a-f-]{36}/);
    capsuleId = /\/capsules\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    await expect.poll(() => heading('Capsule Calculator agent').isVisible()).toBe(true);
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Capsule created');
    expect(await page.getByRole('checkbox', { name: 'calculator' }).isChecked()).toBe(true);
    await accessible('capsule editor');
    await shot('03-capsule-editor');
    // The default rule moves a weight only on significant evidence about the memory lane (this capsule
    // has no memories); SPEC §5's literal gain rule moves the weights on every step, so the one turn
    // below gives the learning page curves to show and a point to roll back to.
    const patched = await fetch(`${server.url}/v1/capsules/${capsuleId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ learning_config: { update_rule: 'gain', learn_threshold: -1 } }),
    });
    expect(patched.status).toBe(200);

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
    // Each convergence bar marks the threshold the turn stopped at (from its turn.started: this capsule's 0.9).
    expect(await turn.locator('.score-threshold').count()).toBe(3);
    expect(await turn.locator('.score-threshold').first().getAttribute('style')).toMatch(/left:\s*90%/);
    turnId = (await turn.getAttribute('data-turn-id'))!;
    expect(turnId).toMatch(/^[0-9a-f-]{36}$/);
    // 👍 works against the server's feedback API (SPEC §13.2).
    const good = turn.getByRole('button', { name: 'Good answer' });
    await expect.poll(() => good.isEnabled()).toBe(true);
    await good.click();
    // Each feedback is a learning step on the server; the wait is generous for a loaded machine (once, at load average ≈ 13, the note had not appeared after the default 15 s).
    await expect.poll(() => turn.getByRole('status').filter({ hasText: 'counted as a reward' }).count(), { timeout: 30_000 }).toBe(1);
    expect(await good.getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => page.getByRole('link', { name: /Arithmetic/ }).textContent()).toContain('2 messages');
    await accessible('chat');
    await shot('06-chat');

    // Changing one's mind: 👎 replaces the 👍 and counts as a penalty.
    const bad = turn.getByRole('button', { name: 'Bad answer' });
    await bad.click();
    await expect.poll(() => turn.getByRole('status').filter({ hasText: 'counted as a penalty' }).count(), { timeout: 30_000 }).toBe(1);
    expect(await bad.getAttribute('aria-pressed')).toBe('true');
    expect(await good.getAttribute('aria-pressed')).toBe('false');
    expect(await turn.getByRole('status').filter({ hasText: 'counted as a reward' }).count()).toBe(0);
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
    // The 👍 and then the 👎 are two feedback steps of the history (newest first): the 👍 credited +1, the
    // 👎 that replaced it the change of the turn's feedback total, −2.
    const feedbackRows = page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'feedback', exact: true }) });
    expect(await feedbackRows.locator('td:nth-of-type(4)').allTextContents()).toEqual(['-2.000', '1.000']);
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

    // What if the capsule had allowed one iteration only: the turn stops after the calculator draft.
    await page.getByLabel('Convergence threshold').fill('');
    await page.getByLabel('Maximum iterations').fill('1');
    await page.getByRole('button', { name: 'Run the counterfactual' }).click();
    await expect.poll(() => whatIf.getByRole('row', { name: /^Iterations/ }).textContent()).toMatch(/Iterations\s*3\s*1$/);
    expect(await whatIf.getByRole('row', { name: /Exit reason/ }).textContent()).toMatch(/Exit reason\s*converged\s*max_iterations$/);
    expect(await whatIf.textContent()).toContain('would change');
    await accessible('replay');
    await shot('12-replay');
  });

  it('shows a remembered fact recalled in the trace, with the tokens and latency of the turn', async () => {
    const remembered = await fetch(`${server.url}/v1/memory/remember`, authed({ method: 'POST', body: { capsule_id: capsuleId, key: 'vpn', content: 'The VPN gateway is vpn.example.net', importance: 0.9 } }));
    expect(remembered.status).toBe(200);
    await page.getByRole('link', { name: 'Chat', exact: true }).click();
    await expect.poll(() => heading('Chat').isVisible()).toBe(true);
    await page.getByLabel('Title (optional)').fill('Network');
    await page.getByRole('button', { name: 'New conversation' }).click();
    await expect.poll(() => heading('Network').isVisible()).toBe(true);
    await page.getByLabel('Message').fill('Which VPN gateway do we use?');
    await page.getByLabel('Message').press('Enter');
    const turn = page.getByTestId('turn').last();
    await expect.poll(() => turn.getByTestId('answer').textContent(), { timeout: 20_000 }).toContain('vpn.example.net');
    const memoryTurn = (await turn.getAttribute('data-turn-id'))!;
    await turn.getByRole('link', { name: 'Trace' }).click();
    await page.waitForURL(new RegExp(`/trace/${memoryTurn}`));
    await expect.poll(() => page.getByTestId('trace-iteration').count()).toBe(1);

    const iteration = page.getByTestId('trace-iteration').first();
    const recalled = iteration.getByRole('listitem').filter({ hasText: 'The VPN gateway is vpn.example.net' });
    expect(await recalled.textContent()).toMatch(/^(in the lane|left out) score \d\.\d{3} — The VPN gateway is vpn\.example\.net$/);
    // What the server recorded for the turn is what the page shows.
    const trace = await getJson<{ iterations: { prompt_tokens: number; completion_tokens: number; latency_ms: number; metadata: { memories?: { key: string }[]; context?: { memories_in_lane?: number } } }[] }>(`/v1/trace/${memoryTurn}`);
    const recorded = trace.iterations[0]!;
    const rank = recorded.metadata.memories?.findIndex((m) => m.key === 'vpn') ?? -1;
    expect(rank).toBeGreaterThanOrEqual(0);
    expect(await recalled.textContent()).toContain(rank < (recorded.metadata.context?.memories_in_lane ?? 0) ? 'in the lane' : 'left out');
    const fact = async (facts: Locator, name: string) => (await facts.locator('div', { has: page.locator('dt', { hasText: new RegExp(`^${name}$`) }) }).locator('dd').textContent())?.trim();
    const turnFacts = page.locator('main dl.facts').first();
    const iterationFacts = iteration.locator('dl.facts');
    expect(recorded.prompt_tokens).toBeGreaterThan(0);
    expect(recorded.latency_ms).toBeGreaterThan(0);
    expect(await fact(turnFacts, 'Tokens')).toBe(String(recorded.prompt_tokens + recorded.completion_tokens));
    expect(await fact(iterationFacts, 'Tokens')).toBe(`${recorded.prompt_tokens} + ${recorded.completion_tokens}`);
    const latency = recorded.latency_ms >= 1000 ? `${(recorded.latency_ms / 1000).toFixed(2)} s` : `${Math.round(recorded.latency_ms)} ms`;
    expect(await fact(iterationFacts, 'Latency')).toBe(latency);
    expect(await fact(turnFacts, 'Model time')).toBe(latency);
    await accessible('trace with a recalled memory');
    await shot('18-trace-memory');
  });

  it('resets the learning to the defaults of the capsule’s learning config', async () => {
    // The defaults, from a capsule with the same learning config that never learned.
    const fresh = (await (await fetch(`${server.url}/v1/capsules`, authed({ method: 'POST', body: { name: 'Never learned', system_prompt: 'Unused.', learning_config: { update_rule: 'gain', learn_threshold: -1 } } }))).json()) as { id: string };
    const defaults = (await getJson<{ weights: Record<string, number>; history: unknown[] }>(`/v1/capsules/${fresh.id}/learning?limit=1`)).weights;
    const expected = Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, v.toFixed(4)]));
    await page.goto(`${server.url}/learning/${capsuleId}`);
    await expect.poll(() => heading('Learning of Calculator agent').isVisible()).toBe(true);
    const shown = async () => Object.fromEntries(await page.getByTestId('current-weights').locator('td').evaluateAll((cells) => cells.map((c) => [c.getAttribute('data-name'), c.textContent])));
    // The memory turn moved the weights away from where the rollback left them.
    await expect.poll(shown).not.toEqual({});
    expect(await shown()).not.toEqual(expected);
    await page.getByRole('button', { name: 'Reset to defaults' }).click();
    const dialog = page.getByRole('dialog', { name: 'Reset the learning?' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await dialog.getByRole('button', { name: 'Reset', exact: true }).click();
    await expect.poll(() => page.getByTestId('learning-message').textContent()).toContain('Learning reset to the defaults');
    await expect.poll(shown).toEqual(expected);
    expect(await page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'reset', exact: true }) }).count()).toBe(1);
    await accessible('learning after reset');
    await shot('19-learning-reset');
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

  it('adds an MCP tool by the name of a server the operator registered', async () => {
    await page.goto(`${server.url}/capsules/new`);
    await expect.poll(() => heading('New capsule').isVisible()).toBe(true);
    await expect.poll(() => page.locator('#mcp-help').textContent()).toContain('Servers here: counter.');
    await page.getByLabel('Name', { exact: true }).fill('MCP agent');
    await page.getByRole('button', { name: 'Add MCP tool' }).click();
    await page.getByLabel('Tool name').fill('echo');
    expect(await page.getByLabel('Server', { exact: true }).inputValue()).toBe('counter');
    await page.getByRole('button', { name: 'Create capsule' }).click();
    await page.waitForURL(/\/capsules\/[0-9a-f-]{36}/);
    const id = /\/capsules\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    const saved = (await (await fetch(`${server.url}/v1/capsules/${id}`, { headers: { authorization: `Bearer ${apiKey}` } })).json()) as { tools: unknown[] };
    expect(saved.tools).toMatchObject([{ name: 'echo', kind: 'mcp', config: { server: 'counter' } }]);
    await expect.poll(() => page.getByLabel('Tool name').inputValue()).toBe('echo');
    await accessible('capsule editor with an MCP tool');
    await shot('17-capsule-mcp');
  });

  it('edits a capsule through the form: a new system prompt and tool policies, still there after a reload', async () => {
    const created = (await (await fetch(`${server.url}/v1/capsules`, authed({ method: 'POST', body: { name: 'Editable agent', system_prompt: 'You are terse.', tools: [{ name: 'calculator' }, { name: 'current_time' }] } }))).json()) as { id: string };
    await page.goto(`${server.url}/capsules/${created.id}`);
    await expect.poll(() => heading('Capsule Editable agent').isVisible()).toBe(true);
    const tool = (name: string) => page.locator('.tool', { has: page.getByRole('checkbox', { name, exact: true }) });
    await expect.poll(() => page.getByLabel('System prompt').inputValue()).toBe('You are terse.');
    expect(await tool('calculator').getByRole('checkbox', { name: 'needs approval' }).isChecked()).toBe(false);
    expect(await tool('current_time').getByRole('checkbox', { name: 'denied by policy' }).isChecked()).toBe(false);

    await page.getByLabel('System prompt').fill('You answer in one sentence and show your arithmetic.');
    await tool('calculator').getByRole('checkbox', { name: 'needs approval' }).check();
    await tool('current_time').getByRole('checkbox', { name: 'denied by policy' }).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved.' }).count()).toBe(1);
    await shot('20-capsule-edited');

    await page.reload();
    await expect.poll(() => heading('Capsule Editable agent').isVisible()).toBe(true);
    await expect.poll(() => page.getByLabel('System prompt').inputValue()).toBe('You answer in one sentence and show your arithmetic.');
    expect(await tool('calculator').getByRole('checkbox', { name: 'needs approval' }).isChecked()).toBe(true);
    expect(await tool('calculator').getByRole('checkbox', { name: 'denied by policy' }).isChecked()).toBe(false);
    expect(await tool('current_time').getByRole('checkbox', { name: 'denied by policy' }).isChecked()).toBe(true);
    expect(await tool('current_time').getByRole('checkbox', { name: 'needs approval' }).isChecked()).toBe(false);
    const saved = await getJson<{ system_prompt: string; tool_policy: { denied: string[]; approval_required: string[] } }>(`/v1/capsules/${created.id}`);
    expect(saved.system_prompt).toBe('You answer in one sentence and show your arithmetic.');
    expect(saved.tool_policy).toMatchObject({ denied: ['current_time'], approval_required: ['calculator'] });
    await accessible('capsule editor after saving');
  });

  it('shows an eval run with its configurations side by side and every item, linked to its trace', async () => {
    const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
    const items = [
      { input: 'What is 6*7?', expected: 42, match: 'number' },
      { input: 'Say hello', expected: 'hello', match: 'contains' },
    ];
    const started = (await (await fetch(`${server.url}/v1/evals`, { method: 'POST', headers, body: JSON.stringify({ name: 'studio-mini', setup: { tools: ['calculator'] }, items, compare: ['single-shot', 'rlm'] }) })).json()) as { id: string };
    await expect
      .poll(async () => ((await (await fetch(`${server.url}/v1/evals/${started.id}`, { headers })).json()) as { status: string }).status, { timeout: 60_000 })
      .toBe('completed');
    await page.getByRole('link', { name: 'Evals', exact: true }).click();
    await expect.poll(() => heading('Evals').isVisible()).toBe(true);
    const card = page.locator('.card', { hasText: 'studio-mini' });
    await expect.poll(() => card.getByRole('row', { name: /^rlm/ }).textContent()).toMatch(/rlm\s*2/);
    await card.getByRole('button', { name: 'Show results' }).click();
    await card.locator('summary', { hasText: 'Per-item results' }).click();
    await expect.poll(() => card.getByTestId('eval-result').count()).toBe(4);
    expect(await card.getByTestId('eval-result').first().getByRole('link').getAttribute('href')).toMatch(/^\/trace\/[0-9a-f-]{36}$/);
    await accessible('evals with results');
    await shot('14-evals-results');
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
