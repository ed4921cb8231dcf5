import type { Page } from 'playwright-core';
import { waitFor } from '../harness';
import { startTestServer, type TestServer } from '../../apps/kanban-server/test/support/test-server';
import { publishAndPull, workBody, type PulledItemBody } from '../../apps/kanban-server/test/support/work-requests';
import { launchHeadlessChromium, type HeadlessChromium } from './support/headless-chromium';

const OPERATOR_TOKEN = 'operator-token-0123456789abcdef';
const READ_ONLY_TOKEN = 'read-only-token-0123456789abcdef';
const BEARER = { Authorization: `Bearer ${OPERATOR_TOKEN}` };
/** Frequent depth samples, so the page sees a queue fill and drain within seconds. */
const COORDINATOR_INTERVAL_MS = '200';
const UI_TIMEOUT_MS = 15_000;
const FILLED = 12;

describe('the dashboard in a real browser: login, queues, dead letters, read-only role', () => {
  let server: TestServer;
  let chromium: HeadlessChromium;
  let page: Page;
  /** Uncaught script errors and resources the page's CSP blocked. */
  const pageProblems: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_API_TOKEN: OPERATOR_TOKEN, KANBAN_READONLY_TOKEN: READ_ONLY_TOKEN, KANBAN_COORDINATOR_CHECK_INTERVAL_MS: COORDINATOR_INTERVAL_MS }, 'embedded', false);
    chromium = await launchHeadlessChromium();
    page = chromium.context.pages()[0] ?? (await chromium.context.newPage());
    // Every bulk action asks first; the operator in these tests says yes.
    page.on('dialog', (dialog) => void dialog.accept());
    page.on('pageerror', (error) => pageProblems.push(error.message));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) pageProblems.push(message.text());
    });
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  async function logIn(token: string): Promise<void> {
    await page.goto(`${server.url}/dashboard`);
    await page.locator('#token').fill(token);
    await page.locator('#login-form button[type=submit]').click();
  }

  /** The ready count the page shows for a queue; undefined while it shows no row for it. */
  async function readyShown(domain: string): Promise<number | undefined> {
    const cell = page.locator(`#queues tr[data-queue="normal:${domain}:embedded"] [data-field=ready]`);
    return (await cell.count()) === 0 ? undefined : Number(await cell.textContent());
  }

  async function deadLetter(domain: string, payload: unknown): Promise<PulledItemBody> {
    const item = await publishAndPull(server, { domain, payload }, BEARER);
    await server.http().post(`/work/${item.id}/nack`).set(BEARER).send({ domain, lease: item.lease, reason: 'card declined' }).expect(200);
    return item;
  }

  async function searchFor(text: string): Promise<string[]> {
    await page.locator('#dlq-text').fill(text);
    await page.locator('#dlq-search button[type=submit]').click();
    return waitFor(
      async () => {
        const ids = await page.locator('#dead-letters tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-letter')));
        return ids.length > 0 ? ids : undefined;
      },
      { timeoutMs: UI_TIMEOUT_MS, description: `dead letters matching ${text} on the page` },
    );
  }

  it('a wrong token gets nothing: the login is refused and the API answers 401', async () => {
    await logIn('not-the-token-0123456789abcdef');

    await page.locator('#login-error').filter({ hasText: 'not valid' }).waitFor({ timeout: UI_TIMEOUT_MS });
    const deadLetters = await page.request.get(`${server.url}/dead-letters`);
    const overview = await page.request.get(`${server.url}/dashboard/api/overview`);
    await chromium.screenshot('login-refused');

    expect(await page.locator('#app').isHidden()).toBe(true);
    expect(deadLetters.status()).toBe(401);
    expect(overview.status()).toBe(401);
  });

  it('logs in and shows a queue fill and drain', async () => {
    const domain = server.domain('fill');
    await logIn(OPERATOR_TOKEN);
    await page.locator('#role').filter({ hasText: 'operator' }).waitFor({ timeout: UI_TIMEOUT_MS });

    for (let n = 0; n < FILLED; n++)
      await server
        .http()
        .post('/work')
        .set(BEARER)
        .send(workBody({ domain, payload: { n } }))
        .expect(201);
    await waitFor(async () => (await readyShown(domain)) === FILLED, { timeoutMs: UI_TIMEOUT_MS, description: `${FILLED} ready in ${domain} on the page` });
    await chromium.screenshot('queue-filled');
    const pulled = await server.http().post('/work/pull').set(BEARER).send({ domain, max: FILLED, waitMs: 5_000 }).expect(200);
    for (const item of pulled.body as PulledItemBody[]) await server.http().post(`/work/${item.id}/ack`).set(BEARER).send({ domain, lease: item.lease }).expect(200);
    await waitFor(async () => ((await readyShown(domain)) ?? 0) === 0, { timeoutMs: UI_TIMEOUT_MS, description: `${domain} drained on the page` });

    expect((pulled.body as PulledItemBody[]).length).toBe(FILLED);
    expect(await page.locator('#depth-chart polyline').count()).toBe(2);
  });

  it('finds a dead letter by payload text and replays it: the item is back in its queue', async () => {
    const domain = server.domain('replay');
    const needle = `needle-${Date.now()}`;
    await deadLetter(domain, { note: 'haystack' });
    const wanted = await deadLetter(domain, { note: needle });

    const found = await searchFor(needle);
    await page.locator(`#dead-letters tr[data-letter="${wanted.id}"] button.link`).click();
    await page.locator('#dlq-item').filter({ hasText: needle }).waitFor({ timeout: UI_TIMEOUT_MS });
    await chromium.screenshot('dead-letter-found');
    await page.locator('#replay-one').click();
    await page.locator('#dlq-progress').filter({ hasText: 'Replayed 1 of 1' }).waitFor({ timeout: UI_TIMEOUT_MS });
    const gone = await server.http().get(`/dead-letters/${wanted.id}`).set(BEARER);
    const back = await server.http().post('/work/pull').set(BEARER).send({ domain, max: 1, waitMs: 5_000 }).expect(200);

    expect(found).toEqual([wanted.id]);
    expect(gone.status).toBe(404);
    expect(back.body[0].payload).toEqual({ note: needle });
  });

  it('the read-only user sees dead letters but has no purge button, and the API refuses the purge with 403', async () => {
    const domain = server.domain('read-only');
    const letter = await deadLetter(domain, { note: `kept-${Date.now()}` });
    await page.locator('#logout').click();
    await logIn(READ_ONLY_TOKEN);
    await page.locator('#role').filter({ hasText: 'read-only' }).waitFor({ timeout: UI_TIMEOUT_MS });

    const found = await searchFor(letter.id);
    await page.locator(`#dead-letters tr[data-letter="${letter.id}"] button.link`).click();
    await page.locator('#dlq-item').waitFor({ timeout: UI_TIMEOUT_MS });
    await chromium.screenshot('read-only');
    const csrf = (await chromium.context.cookies(server.url)).find((cookie) => cookie.name === 'kanban_csrf')?.value ?? '';
    const purge = await page.request.delete(`${server.url}/dead-letters/${letter.id}`, { headers: { 'x-kanban-csrf': decodeURIComponent(csrf) } });
    const still = await server.http().get(`/dead-letters/${letter.id}`).set(BEARER);

    expect(found).toEqual([letter.id]);
    expect(await page.locator('#purge-one, #purge-selected, #replay-one, #dead-letters input[type=checkbox]').count()).toBe(0);
    expect(csrf).not.toBe('');
    expect(purge.status()).toBe(403);
    expect((await purge.json()).code).toBe('read_only');
    expect(still.status).toBe(200);
  });

  it('ran without a script error or a resource its CSP blocked', () => {
    expect(pageProblems).toEqual([]);
  });
});
