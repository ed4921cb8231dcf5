import type { Page } from 'playwright-core';
import { waitFor } from '../harness';
import { startTestServer, type TestServer } from '../../apps/kanban-server/test/support/test-server';
import { launchHeadlessChromium, type HeadlessChromium } from './support/headless-chromium';
import { logInAs, UI_TIMEOUT_MS } from './support/dashboard-login';

const OPERATOR_TOKEN = 'operator-token-0123456789abcdef';
const READ_ONLY_TOKEN = 'read-only-token-0123456789abcdef';
const BEARER = { Authorization: `Bearer ${OPERATOR_TOKEN}` };
/** One more than the page's page of groups, so the list needs a second page. */
const MANY_GROUPS = 51;

describe('the Groups panel in a real browser: groups per domain, paged, and their limits', () => {
  let server: TestServer;
  let chromium: HeadlessChromium;
  let page: Page;
  const dialogs: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_API_TOKEN: OPERATOR_TOKEN, KANBAN_READONLY_TOKEN: READ_ONLY_TOKEN }, 'embedded', false);
    chromium = await launchHeadlessChromium();
    page = chromium.context.pages()[0] ?? (await chromium.context.newPage());
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  function logIn(token: string, role: string): Promise<void> {
    return logInAs(page, `${server.url}/dashboard`, token, role);
  }

  async function publish(domain: string, group: string): Promise<void> {
    await server.http().post('/work').set(BEARER).send({ priority: 'normal', domain, group, payload: {}, deadlineMs: 60_000 }).expect(201);
  }

  async function showGroups(domain: string): Promise<void> {
    await page.locator('#groups-domain').fill(domain);
    await page.locator('#groups-search button[type=submit]').click();
  }

  /** The cells the page shows for a group, once it shows its row. */
  async function rowOf(group: string): Promise<Record<string, string>> {
    const row = page.locator(`#groups tr[data-group="${group}"]`);
    await row.waitFor({ timeout: UI_TIMEOUT_MS });
    const cell = async (field: string) => (await row.locator(`[data-field=${field}]`).textContent()) ?? '';
    return { ready: await cell('ready'), inFlight: await cell('in-flight'), maxInFlight: await cell('max-in-flight'), rate: await cell('rate') };
  }

  it("lists a domain's groups with their ready items, and pages on to the rest", async () => {
    // Arrange
    const domain = server.domain('tenants');
    for (let n = 0; n < MANY_GROUPS; n++) await publish(domain, `merchant-${String(n).padStart(2, '0')}`);
    await publish(domain, 'merchant-00');
    await logIn(OPERATOR_TOKEN, 'operator');

    // Act
    await showGroups(domain);
    const first = await rowOf('merchant-00');
    const firstPage = await page.locator('#groups tbody tr').count();
    await page.locator('#groups-next').click();
    await page.locator(`#groups tr[data-group="merchant-${MANY_GROUPS - 1}"]`).waitFor({ timeout: UI_TIMEOUT_MS });
    await chromium.screenshot('groups');

    // Assert
    expect(first).toEqual({ ready: '2', inFlight: '0', maxInFlight: '—', rate: '—' });
    expect(firstPage).toBe(MANY_GROUPS - 1);
    expect(await page.locator('#groups tbody tr').count()).toBe(MANY_GROUPS);
    expect(await page.locator('#groups-next').count()).toBe(0);
  });

  it("sets a group's limits through the form, after confirmation: the page and the API show them", async () => {
    // Arrange
    const domain = server.domain('limited');
    await publish(domain, 'merchant-42');
    await showGroups(domain);
    await rowOf('merchant-42');

    // Act
    await page.locator('#group-limits-form [name=group]').fill('merchant-42');
    await page.locator('#group-limits-form [name=maxInFlight]').fill('2');
    await page.locator('#group-limits-form [name=ratePerSecond]').fill('5');
    await page.locator('#group-limits-form button[type=submit]').click();
    await page.locator('#groups-result').filter({ hasText: 'Group merchant-42: max in flight 2, rate 5/s' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await waitFor(async () => (await rowOf('merchant-42')).maxInFlight === '2', { timeoutMs: UI_TIMEOUT_MS, description: 'the new limit on the page' });

    // Assert
    const listed = await server.http().get(`/groups/${domain}`).set(BEARER).expect(200);
    expect(dialogs.at(-1)).toBe(`Set {"maxInFlight":2,"ratePerSecond":5} on group merchant-42 of ${domain}?`);
    expect(await rowOf('merchant-42')).toEqual({ ready: '1', inFlight: '0', maxInFlight: '2', rate: '5' });
    expect(listed.body.items).toEqual([expect.objectContaining({ group: 'merchant-42', limits: { maxInFlight: 2, ratePerSecond: 5 } })]);
  });

  it('shows the read-only user the groups without the limits form, and the API refuses the change with 403', async () => {
    // Arrange
    const domain = server.domain('watched');
    await publish(domain, 'merchant-7');
    await page.locator('#logout').click();
    await logIn(READ_ONLY_TOKEN, 'read-only');

    // Act
    await showGroups(domain);
    const shown = await rowOf('merchant-7');
    const csrf = decodeURIComponent((await chromium.context.cookies(server.url)).find((cookie) => cookie.name === 'kanban_csrf')?.value ?? '');
    const refused = await page.request.put(`${server.url}/groups/${domain}/merchant-7/limits`, { headers: { 'x-kanban-csrf': csrf }, data: { maxInFlight: 1 } });

    // Assert
    const listed = await server.http().get(`/groups/${domain}`).set(BEARER).expect(200);
    expect(shown.ready).toBe('1');
    expect(await page.locator('#group-limits-form').count()).toBe(0);
    expect(refused.status()).toBe(403);
    expect((await refused.json()).code).toBe('read_only');
    expect(listed.body.items[0].limits).toEqual({});
  });
});
