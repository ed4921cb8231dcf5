import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import { EMBEDDED_ITEMS_TABLE, EmbeddedTransport } from '../../libs/kanban/src/transports/embedded';
import type { TransportSettings } from '../../libs/kanban/src/transport';
import type { ContractHarness } from '../contract/transport-contract';

/** The contract harness for the embedded store, plus the file path behind each transport for embedded-only checks. */
export interface EmbeddedHarness extends ContractHarness {
  create(settings: TransportSettings): Promise<EmbeddedTransport>;
  reopen(transport: EmbeddedTransport, settings: TransportSettings): Promise<EmbeddedTransport>;
  pathOf(transport: EmbeddedTransport): string;
  /** A fresh temp directory removed by cleanup. */
  tempDir(): string;
}

export function createEmbeddedHarness(): EmbeddedHarness {
  // Open/close lines for every test drown the report; warnings and errors still show.
  Logger.overrideLogger(['warn', 'error']);
  const dirs: string[] = [];
  const paths = new Map<EmbeddedTransport, string>();

  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'kanban-embedded-'));
    dirs.push(dir);
    return dir;
  };
  const open = async (path: string, settings: TransportSettings): Promise<EmbeddedTransport> => {
    const transport = new EmbeddedTransport({ path }, settings);
    await transport.connect();
    paths.set(transport, path);
    return transport;
  };
  const pathOf = (transport: EmbeddedTransport): string => {
    const path = paths.get(transport);
    if (!path) throw new Error('transport was not created by this harness');
    return path;
  };

  return {
    tempDir,
    pathOf,
    create: (settings) => open(join(tempDir(), 'kanban.db'), settings),
    async reopen(transport, settings) {
      await transport.close();
      return open(pathOf(transport), settings);
    },
    // A second connection writing the row, as another process would.
    async injectRaw(transport, priority, domain, bytes) {
      const db = new Database(pathOf(transport as EmbeddedTransport));
      try {
        db.prepare(`INSERT INTO ${EMBEDDED_ITEMS_TABLE} (priority, domain, body) VALUES (?, ?, ?)`).run(priority, domain, bytes);
      } finally {
        db.close();
      }
    },
    async cleanup() {
      for (const transport of paths.keys()) await transport.close();
      paths.clear();
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
