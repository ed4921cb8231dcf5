import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { loadServerConfig } from '../../../apps/kanban-server/src/config';
import { createServerApp } from '../../../apps/kanban-server/src/create-server-app';
import { CapturingLogger } from './capturing-logger';

/** High enough that the throttler never answers a test's own requests (rate limiting has its own e2e test). */
export const UNTHROTTLED = '1000000';

export interface ServerUnderTest {
  app: NestExpressApplication;
  url: string;
  http: () => ReturnType<typeof request>;
  logger: CapturingLogger;
  close: () => Promise<void>;
}

/**
 * The server as `main.ts` builds it from environment variables, in this process, on loopback,
 * with its store in a temp dir and every log line captured.
 * @throws whatever start-up throws (bad configuration, a broker refusing the credentials).
 */
export async function startServer(env: Record<string, string> = {}, logger = new CapturingLogger()): Promise<ServerUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-hardening-'));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  let app: NestExpressApplication | undefined;
  try {
    const config = loadServerConfig({ KANBAN_EMBEDDED_PATH: join(dir, 'kanban.db'), PORT: '0', KANBAN_HOST: '127.0.0.1', KANBAN_RATE_LIMIT_PER_SECOND: UNTHROTTLED, ...env });
    app = await createServerApp(config, logger);
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await app?.close().catch(() => undefined);
    removeDir();
    throw error;
  }
  const started = app;
  const address = started.getHttpServer().address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    app: started,
    url,
    logger,
    http: () => request(url),
    close: async () => {
      await started.close();
      removeDir();
    },
  };
}
