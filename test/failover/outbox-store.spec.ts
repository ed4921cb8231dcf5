import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerUnavailableError, OutboxFullError } from '../../libs/kanban/src/errors';
import { OutboxStore } from '../../libs/kanban/src/transports/failover';
import { makeItem, storedFields } from '../contract/contract-helpers';

describe('OutboxStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kanban-outbox-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps items in publish order across a reopen and removes only what it is told', async () => {
    // Arrange
    const path = join(dir, 'outbox.db');
    const items = Array.from({ length: 5 }, (_, n) => makeItem({ priority: n % 2 ? 'high' : 'normal', payload: { n } }));
    const first = new OutboxStore({ path });
    first.open();
    await Promise.all(items.map((item) => first.append(item)));
    first.close();

    // Act
    const reopened = new OutboxStore({ path });
    reopened.open();
    const stored = reopened.oldest(10);
    reopened.remove(stored.slice(0, 2).map((entry) => entry.seq));
    const left = reopened.oldest(10);
    const depth = reopened.depth();
    reopened.close();

    // Assert
    expect(stored.map((entry) => storedFields(entry.item))).toEqual(items.map(storedFields));
    expect(left.map((entry) => entry.item.id)).toEqual(items.slice(2).map((item) => item.id));
    expect(depth).toEqual([
      { broker: 'outbox', priority: 'high', domain: 'orders', ready: 1, inFlight: 0 },
      { broker: 'outbox', priority: 'normal', domain: 'orders', ready: 2, inFlight: 0 },
    ]);
  });

  it('refuses an item beyond maxItems with OutboxFullError, a BrokerUnavailableError', async () => {
    const store = new OutboxStore({ path: join(dir, 'outbox.db'), maxItems: 2 });
    store.open();
    await store.append(makeItem());
    await store.append(makeItem());

    const overflow = store.append(makeItem());

    await expect(overflow).rejects.toBeInstanceOf(OutboxFullError);
    await expect(overflow).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(store.size).toBe(2);
    store.close();
  });

  it('fails to open with a BrokerUnavailableError naming the file', () => {
    const notADirectory = join(dir, 'a-file');
    writeFileSync(notADirectory, '');
    const store = new OutboxStore({ path: join(notADirectory, 'outbox.db') });

    expect(() => store.open()).toThrow(BrokerUnavailableError);
    expect(() => store.open()).toThrow(/opening the outbox at .*a-file\/outbox\.db failed/);
    expect(store.isOpen).toBe(false);
  });
});
