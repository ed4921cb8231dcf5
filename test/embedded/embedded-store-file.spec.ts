import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BrokerUnavailableError, TopologyConflictError } from '../../libs/kanban/src/errors';
import { encodeItem } from '../../libs/kanban/src/codec';
import { EMBEDDED_ITEMS_TABLE, EMBEDDED_SCHEMA_VERSION, EmbeddedTransport } from '../../libs/kanban/src/transports/embedded';
import { contractSettings, makeItem, pullExactly } from '../contract/contract-helpers';
import { createEmbeddedHarness } from './embedded-harness';

const harness = createEmbeddedHarness();

function inspect<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

describe('embedded store file', () => {
  afterEach(() => harness.cleanup());

  it('creates missing parent directories and keeps the file in WAL mode', async () => {
    const path = join(harness.tempDir(), 'a', 'b', 'kanban.db');
    const transport = new EmbeddedTransport({ path }, contractSettings());

    await transport.connect();
    await transport.connect();
    await transport.close();

    expect(existsSync(path)).toBe(true);
    expect(inspect(path, (db) => db.pragma('journal_mode', { simple: true }))).toBe('wal');
    expect(inspect(path, (db) => db.pragma('user_version', { simple: true }))).toBe(EMBEDDED_SCHEMA_VERSION);
  });

  it('refuses a file written by a newer schema and reports itself down', async () => {
    const path = join(harness.tempDir(), 'kanban.db');
    const db = new Database(path);
    db.pragma(`user_version = ${EMBEDDED_SCHEMA_VERSION + 1}`);
    db.close();
    const transport = new EmbeddedTransport({ path }, contractSettings());

    await expect(transport.connect()).rejects.toBeInstanceOf(TopologyConflictError);
    expect(transport.currentStatus.state).toBe('down');
    expect(transport.currentStatus.detail).toContain(`cannot open ${path}`);
  });

  it('does not reconnect once closed', async () => {
    const transport = await harness.create(contractSettings());
    await transport.close();

    await expect(transport.connect()).rejects.toBeInstanceOf(BrokerUnavailableError);
    await expect(transport.depth()).rejects.toBeInstanceOf(BrokerUnavailableError);
  });

  it('delivers a well-formed item a foreign writer inserted', async () => {
    const transport = await harness.create(contractSettings());
    const item = makeItem({ payload: { from: 'elsewhere' } });
    const db = new Database(harness.pathOf(transport));
    db.prepare(`INSERT INTO ${EMBEDDED_ITEMS_TABLE} (id, priority, domain, body) VALUES (?, ?, ?, ?)`).run(item.id, item.priority, item.domain, encodeItem(item));
    db.close();

    const [delivery] = await pullExactly(transport, { domain: item.domain }, 1);

    expect(delivery).toMatchObject({ id: item.id, item: { ...item, attempts: 1 } });
  });
});
