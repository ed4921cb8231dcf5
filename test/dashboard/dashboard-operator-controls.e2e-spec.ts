import { Injectable } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { KanbanHandler } from '@tps/kanban';
import type { Page } from 'playwright-core';
import { waitFor } from '../harness';
import { startTestServer, type TestServer } from '../../apps/kanban-server/test/support/test-server';
import { publishAndPull, type PulledItemBody } from '../../apps/kanban-server/test/support/work-requests';
import { launchHeadlessChromium, type HeadlessChromium } from './support/headless-chromium';
import { logInAs, UI_TIMEOUT_MS } from './support/dashboard-login';

const OPERATOR_TOKEN = 'operator-token-0123456789abcdef';
const READ_ONLY_TOKEN = 'read-only-token-0123456789abcdef';
const BEARER = { Authorization: `Bearer ${OPERATOR_TOKEN}` };
const COORDINATOR_INTERVAL_MS = '200';
/** Served by the in-process handler below: its failures open the worker's circuit breaker. */
const BREAKER_DOMAIN = 'dashboard-breaker';
/** The default circuitBreakerThreshold: this many failures in a row open the breaker. */
const FAILURES_TO_OPEN = 3;
/** Every mutating control the page has; a read-only user must see none of them. */
const MUTATING_CONTROLS = [
  '#reset-breakers',
  '#workers-form',
  '#schedule-form',
  '#canary-form',
  '#schedules button',
  '#select-all',
  '#replay-selected',
  '#purge-selected',
  '#dead-letters input[type=checkbox]',
  '#replay-one',
  '#purge-one',
  '#group-limits-form',
].join(', ');

/** The downstream the handler calls: down until a test says it is fixed. */
const downstream = { up: false };

@Injectable()
class PaymentsConsumer {
  @KanbanHandler({ priority: 'normal', domain: BREAKER_DOMAIN })
  handle(@Payload() _payload: unknown) {
    if (!downstream.up) throw new Error('payment gateway unreachable');
  }
}

describe('the dashboard in a real browser: bulk dead-letter actions, schedules, breakers, workers, and the read-only role', () => {
  let server: TestServer;
  let chromium: HeadlessChromium;
  let page: Page;
  /** What the page asked before a mutation, and the answer the operator gives. */
  const dialogs: string[] = [];
  let confirmAnswer = true;

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_API_TOKEN: OPERATOR_TOKEN, KANBAN_READONLY_TOKEN: READ_ONLY_TOKEN, KANBAN_COORDINATOR_CHECK_INTERVAL_MS: COORDINATOR_INTERVAL_MS }, 'embedded', false, [
      PaymentsConsumer,
    ]);
    chromium = await launchHeadlessChromium();
    page = chromium.context.pages()[0] ?? (await chromium.context.newPage());
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void (confirmAnswer ? dialog.accept() : dialog.dismiss());
    });
    await logIn(OPERATOR_TOKEN, 'operator');
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  function logIn(token: string, role: string): Promise<void> {
    return logInAs(page, `${server.url}/dashboard`, token, role);
  }

  async function deadLetter(domain: string, payload: unknown): Promise<PulledItemBody> {
    const item = await publishAndPull(server, { domain, payload }, BEARER);
    await server.http().post(`/work/${item.id}/nack`).set(BEARER).send({ domain, lease: item.lease, reason: 'card declined' }).expect(200);
    return item;
  }

  /** Searches the dead letters of a domain on the page; resolves once it shows `count` rows. */
  async function showDeadLetters(domain: string, count: number): Promise<void> {
    await page.locator('#dlq-text').fill('');
    await page.locator('#dlq-domain').fill(domain);
    await page.locator('#dlq-search button[type=submit]').click();
    await waitFor(async () => (await page.locator('#dead-letters tbody tr').count()) === count, { timeoutMs: UI_TIMEOUT_MS, description: `${count} dead letters of ${domain} on the page` });
  }

  /** Every text #dlq-progress shows from now on, so a test sees the progress a bulk action reports (a page script: this project compiles without DOM types). */
  async function recordProgress(): Promise<() => Promise<string[]>> {
    await page.evaluate(`{
      const element = document.getElementById('dlq-progress');
      window.progressSeen = [];
      new MutationObserver(() => window.progressSeen.push(element.textContent)).observe(element, { childList: true, characterData: true, subtree: true });
    }`);
    return () => page.evaluate<string[]>('window.progressSeen');
  }

  async function statusOf(path: string): Promise<number> {
    return (await server.http().get(path).set(BEARER)).status;
  }

  it('replays a selection of dead letters after confirmation, showing progress: the items are back in their queue', async () => {
    // Arrange
    const domain = server.domain('bulk-replay');
    const letters = [await deadLetter(domain, { n: 1 }), await deadLetter(domain, { n: 2 }), await deadLetter(domain, { n: 3 })];
    await showDeadLetters(domain, letters.length);
    await page.locator('#select-all').click();
    confirmAnswer = false;
    await page.locator('#replay-selected').click();
    const keptOnNo = await Promise.all(letters.map((letter) => statusOf(`/dead-letters/${letter.id}`)));
    confirmAnswer = true;
    const progress = await recordProgress();

    // Act
    await page.locator('#replay-selected').click();
    await page.locator('#dlq-progress').filter({ hasText: 'Replayed 3 of 3.' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await chromium.screenshot('bulk-replayed');

    // Assert
    const pulled = await server.http().post('/work/pull').set(BEARER).send({ domain, max: 10, waitMs: 5_000 }).expect(200);
    expect(keptOnNo).toEqual([200, 200, 200]);
    expect(dialogs.slice(-2)).toEqual(['Replay 3 dead letters?', 'Replay 3 dead letters?']);
    expect(await progress()).toEqual(expect.arrayContaining(['Replaying 1 of 3…', 'Replaying 2 of 3…', 'Replaying 3 of 3…', 'Replayed 3 of 3.']));
    expect(await Promise.all(letters.map((letter) => statusOf(`/dead-letters/${letter.id}`)))).toEqual([404, 404, 404]);
    expect((pulled.body as PulledItemBody[]).map((item) => item.payload)).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }, { n: 3 }]));
    expect(pulled.body).toHaveLength(3);
  });

  it('purges only the selected dead letters after a warning, showing progress', async () => {
    // Arrange
    const domain = server.domain('bulk-purge');
    const [first, second, kept] = [await deadLetter(domain, { n: 1 }), await deadLetter(domain, { n: 2 }), await deadLetter(domain, { n: 3 })];
    await showDeadLetters(domain, 3);
    await page.locator(`#dead-letters tr[data-letter="${first.id}"] input[type=checkbox]`).check();
    await page.locator(`#dead-letters tr[data-letter="${second.id}"] input[type=checkbox]`).check();
    const progress = await recordProgress();

    // Act
    await page.locator('#purge-selected').click();
    await page.locator('#dlq-progress').filter({ hasText: 'Purged 2 of 2.' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await waitFor(async () => (await page.locator('#dead-letters tbody tr').count()) === 1, { timeoutMs: UI_TIMEOUT_MS, description: 'the kept letter alone on the page' });

    // Assert
    expect(dialogs.at(-1)).toBe('Purge 2 dead letters? Purged letters are gone for good.');
    expect(await progress()).toEqual(expect.arrayContaining(['Purging 1 of 2…', 'Purging 2 of 2…', 'Purged 2 of 2.']));
    expect(await statusOf(`/dead-letters/${first.id}`)).toBe(404);
    expect(await statusOf(`/dead-letters/${second.id}`)).toBe(404);
    expect(await statusOf(`/dead-letters/${kept.id}`)).toBe(200);
    expect(await page.locator('#dead-letters tbody tr').getAttribute('data-letter')).toBe(kept.id);
  });

  it('adds a schedule, runs a canary and deletes the schedule', async () => {
    // Arrange
    const domain = server.domain('scheduled');
    const canaryDomain = server.domain('canary');
    const name = `nightly-${Date.now()}`;

    // Act
    await page.locator('#schedule-form [name=name]').fill(name);
    await page.locator('#schedule-form [name=domain]').fill(domain);
    await page.locator('#schedule-form [name=every]').fill('3600000');
    await page.locator('#schedule-form button[type=submit]').click();
    await page
      .locator('#schedules-result')
      .filter({ hasText: `Schedule ${name} added` })
      .waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator(`#schedules tr[data-job="${name}"]`).waitFor({ timeout: UI_TIMEOUT_MS });
    const added = await server.http().get(`/schedules/${name}`).set(BEARER);
    await page.locator('#canary-form [name=domain]').fill(canaryDomain);
    await page.locator('#canary-form button[type=submit]').click();
    await page.locator('#schedules-result').filter({ hasText: 'Canary' }).waitFor({ timeout: UI_TIMEOUT_MS });
    const canaryText = await page.locator('#schedules-result').textContent();
    const canary = await server.http().post('/work/pull').set(BEARER).send({ domain: canaryDomain, priority: 'high', max: 1, waitMs: 5_000 }).expect(200);
    await chromium.screenshot('schedule-and-canary');
    await page.locator(`#schedules tr[data-job="${name}"] button`).click();
    await page.locator(`#schedules tr[data-job="${name}"]`).waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });

    // Assert
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ jobId: name, domain, kind: 'interval', intervalMs: 3_600_000 });
    expect(canary.body).toHaveLength(1);
    expect(canaryText).toContain(`as item ${canary.body[0].id}`);
    expect(dialogs.at(-1)).toBe(`Delete schedule ${name}?`);
    expect(await statusOf(`/schedules/${name}`)).toBe(404);
  });

  it('shows an open circuit breaker and closes it with Reset breakers', async () => {
    // Arrange
    for (let n = 0; n < FAILURES_TO_OPEN; n++) await server.http().post('/work').set(BEARER).send({ priority: 'normal', domain: BREAKER_DOMAIN, payload: { n }, deadlineMs: 60_000 }).expect(201);
    const openRow = page.locator('#workers tbody tr', { hasText: BREAKER_DOMAIN }).locator('.state-open');
    await openRow.waitFor({ timeout: UI_TIMEOUT_MS });
    await chromium.screenshot('breaker-open');
    downstream.up = true;

    // Act
    await page.locator('#reset-breakers').click();
    await page.locator('#workers-result').filter({ hasText: 'Closed 1 open circuit breaker' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await openRow.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });

    // Assert
    const health = await server.http().get('/coordinator/health').set(BEARER).expect(200);
    expect(dialogs.at(-1)).toBe('Reset every open circuit breaker?');
    expect(health.body.open_circuit_breakers).toBe(0);
    expect(await page.locator('#workers tbody tr', { hasText: BREAKER_DOMAIN }).locator('.state-running').count()).toBe(1);
  });

  it('sets the worker count per handler: the page and the coordinator show the new count', async () => {
    // Act
    await page.locator('#workers-form [name=count]').fill('2');
    await page.locator('#workers-form button[type=submit]').click();
    await page.locator('#workers-result').filter({ hasText: 'Workers set to 2 per handler' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await waitFor(async () => (await page.locator('#workers tbody tr', { hasText: BREAKER_DOMAIN }).count()) === 2, { timeoutMs: UI_TIMEOUT_MS, description: 'two workers on the page' });

    // Assert
    const health = await server.http().get('/coordinator/health').set(BEARER).expect(200);
    expect(dialogs.at(-1)).toBe('Run 2 workers per handler? Autoscaling pauses until the server restarts.');
    expect(health.body).toMatchObject({ current_workers: 2, target_workers: 2 });
  });

  it('gives the read-only user none of the mutating controls, and the API refuses each mutation with 403', async () => {
    // Arrange
    const domain = server.domain('read-only');
    const letter = await deadLetter(domain, { note: 'kept' });
    const { jobId } = (await server.http().post('/schedules').set(BEARER).send({ type: 'interval', priority: 'low', domain, intervalMs: 3_600_000, deadlineMs: 60_000 }).expect(201)).body;
    await page.locator('#logout').click();
    await logIn(READ_ONLY_TOKEN, 'read-only');
    await showDeadLetters(domain, 1);
    await page.locator(`#dead-letters tr[data-letter="${letter.id}"] button.link`).click();
    await page.locator('#dlq-item').waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator(`#schedules tr[data-job="${jobId}"]`).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator('#workers tbody tr', { hasText: BREAKER_DOMAIN }).first().waitFor({ timeout: UI_TIMEOUT_MS });
    await chromium.screenshot('read-only-controls');
    const csrf = decodeURIComponent((await chromium.context.cookies(server.url)).find((cookie) => cookie.name === 'kanban_csrf')?.value ?? '');
    const headers = { 'x-kanban-csrf': csrf };

    // Act
    const refusals = {
      replay: await page.request.post(`${server.url}/dead-letters/${letter.id}/replay`, { headers }),
      purge: await page.request.delete(`${server.url}/dead-letters/${letter.id}`, { headers }),
      resetBreakers: await page.request.post(`${server.url}/coordinator/breakers/reset`, { headers }),
      setWorkers: await page.request.post(`${server.url}/coordinator/workers`, { headers, data: { count: 1 } }),
      addSchedule: await page.request.post(`${server.url}/schedules`, { headers, data: { type: 'interval', priority: 'low', domain, intervalMs: 60_000, deadlineMs: 60_000 } }),
      runCanary: await page.request.post(`${server.url}/schedules/canary`, { headers, data: { domain } }),
      deleteSchedule: await page.request.delete(`${server.url}/schedules/${jobId}`, { headers }),
    };

    // Assert
    const answered = Object.fromEntries(await Promise.all(Object.entries(refusals).map(async ([action, response]) => [action, `${response.status()} ${(await response.json()).code}`])));
    expect(csrf).not.toBe('');
    expect(await page.locator(MUTATING_CONTROLS).count()).toBe(0);
    expect(answered).toEqual(Object.fromEntries(Object.keys(refusals).map((action) => [action, '403 read_only'])));
    expect(await statusOf(`/dead-letters/${letter.id}`)).toBe(200);
    expect(await statusOf(`/schedules/${jobId}`)).toBe(200);
    expect((await server.http().get('/coordinator/health').set(BEARER)).body.target_workers).toBe(2);
  });
});
