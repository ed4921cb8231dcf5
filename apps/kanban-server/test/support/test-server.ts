import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { loadServerConfig } from '../../src/config';
import { createServerApp } from '../../src/create-server-app';

export interface TestServer {
  app: NestExpressApplication;
  /** supertest against the server on its loopback port. */
  http: () => ReturnType<typeof request>;
  url: string;
  /** The embedded store's file (also the failover outbox). */
  dbPath: string;
  close: () => Promise<void>;
}

/**
 * The server as `main.ts` builds it, from environment variables, on a fresh embedded store in a
 * temp dir, listening on a free loopback port.
 */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-server-e2e-'));
  const dbPath = join(dir, 'kanban.db');
  const config = loadServerConfig({ KANBAN_EMBEDDED_PATH: dbPath, PORT: '0', KANBAN_HOST: '127.0.0.1', ...env });
  const app = await createServerApp(config, ['error', 'warn']);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    app,
    url,
    dbPath,
    http: () => request(url),
    close: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
