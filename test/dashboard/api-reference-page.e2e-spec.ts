import { startTestServer, type TestServer } from '../../apps/kanban-server/test/support/test-server';
import { launchHeadlessChromium, type HeadlessChromium } from './support/headless-chromium';

const TOKEN = 'reference-token-0123456789abcdef';
/** A name that is not localhost, so the browser treats the plain-HTTP origin as insecure, as for a real host. */
const HOST = 'kanban.internal';
const UI_TIMEOUT_MS = 15_000;

describe('/docs over plain HTTP from a host that is not localhost', () => {
  let server: TestServer;
  let chromium: HeadlessChromium;

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_API_TOKEN: TOKEN, KANBAN_ALLOWED_HOSTS: HOST, KANBAN_TRUST_PROXY: 'loopback' }, 'embedded', false);
    // The name resolves to the server's loopback address, and the request carries Host: kanban.internal:port.
    chromium = await launchHeadlessChromium([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`]);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  it('answers without upgrade-insecure-requests in its CSP', async () => {
    // Act
    const page = await server.http().get('/docs').set('Host', HOST).expect(200);

    // Assert
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.headers['content-security-policy']).not.toMatch(/upgrade-insecure-requests/);
  });

  it('keeps upgrade-insecure-requests for a request that came over TLS through a trusted proxy', async () => {
    // Act
    const page = await server.http().get('/docs').set('Host', HOST).set('X-Forwarded-Proto', 'https').expect(200);

    // Assert
    expect(page.headers['content-security-policy']).toMatch(/upgrade-insecure-requests/);
  });

  it('renders the API reference in a real browser, every asset loaded over http', async () => {
    // Arrange
    const page = chromium.context.pages()[0] ?? (await chromium.context.newPage());
    const failed: string[] = [];
    page.on('requestfailed', (request) => failed.push(`${request.url()}: ${request.failure()?.errorText ?? ''}`));
    const url = `${server.url.replace('127.0.0.1', HOST)}/docs`;

    // Act
    await page.goto(url);
    const title = page.locator('.swagger-ui .info .title');
    await title.waitFor({ timeout: UI_TIMEOUT_MS });
    await chromium.screenshot('api-reference');

    // Assert
    expect(await title.textContent()).toContain('TPS Kanban');
    expect(await page.locator('.opblock').count()).toBeGreaterThan(10);
    expect(failed).toEqual([]);
  });
});
