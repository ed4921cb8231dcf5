import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Logger } from '@nestjs/common';
import { StoreLockedError } from '../../libs/kanban/src/errors';
import { EmbeddedTransport } from '../../libs/kanban/src/transports/embedded';
import { OutboxStore } from '../../libs/kanban/src/transports/failover';
import { contractSettings } from '../contract/contract-helpers';
import { HOLDING_LINE } from './fixtures/hold-store-file';

const REGISTER_SWC = join(__dirname, '../embedded/fixtures/register-swc.js');
/** The child is killed regardless after this long, so a stuck child fails the test instead of hanging it. */
const CHILD_TIMEOUT_MS = 30_000;

/** A child process holding the store file; resolves once it says it holds it. */
async function holdInChild(kind: 'embedded' | 'outbox', path: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--expose-gc', '--require', REGISTER_SWC, join(__dirname, 'fixtures/hold-store-file.ts'), kind, path], { stdio: ['ignore', 'pipe', 'pipe'] });
  const guard = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  child.once('exit', () => clearTimeout(guard));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Other lines are the child's logs.
  const holding = new Promise<void>((resolve) => createInterface({ input: child.stdout }).on('line', (line) => line === HOLDING_LINE && resolve()));
  const held = await Promise.race([holding.then(() => true), once(child, 'exit').then(() => false)]);
  if (!held) throw new Error(`child did not hold ${path}: ${stderr}`);
  return child;
}

async function killHard(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

async function refusal(open: () => unknown): Promise<unknown> {
  try {
    await open();
    return 'opened';
  } catch (error) {
    return error;
  }
}

describe('one process per store file', () => {
  let dir: string;

  beforeAll(() => Logger.overrideLogger(['error']));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kanban-lock-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses the embedded store to a second process, naming the file and the holder pid, and opens once the holder is killed -9', async () => {
    // Arrange
    const path = join(dir, 'kanban.db');
    const child = await holdInChild('embedded', path);
    const second = new EmbeddedTransport({ path }, contractSettings());

    // Act
    const refused = await refusal(() => second.connect());
    await killHard(child);
    const afterKill = new EmbeddedTransport({ path }, contractSettings());
    const reopened = await refusal(() => afterKill.connect());
    await afterKill.close();

    // Assert
    expect(refused).toBeInstanceOf(StoreLockedError);
    expect((refused as Error).message).toContain(path);
    expect((refused as Error).message).toContain(`process ${child.pid}`);
    expect({ secondState: second.currentStatus.state, reopened }).toEqual({ secondState: 'down', reopened: 'opened' });
  });

  it('refuses the outbox to a second process, naming the file and the holder pid, and opens once the holder is killed -9', async () => {
    // Arrange
    const path = join(dir, 'outbox.db');
    const child = await holdInChild('outbox', path);

    // Act
    const refused = await refusal(() => new OutboxStore({ path }).open());
    await killHard(child);
    const afterKill = new OutboxStore({ path });
    const reopened = await refusal(() => afterKill.open());
    afterKill.close();

    // Assert
    expect(refused).toBeInstanceOf(StoreLockedError);
    expect((refused as Error).message).toContain(path);
    expect((refused as Error).message).toContain(`process ${child.pid}`);
    expect(reopened).toBe('opened');
  });

  it('refuses a second transport on the file in the same process until the first closes', async () => {
    // Arrange
    const path = join(dir, 'kanban.db');
    const first = new EmbeddedTransport({ path }, contractSettings());
    await first.connect();

    // Act
    const whileOpen = await refusal(() => new EmbeddedTransport({ path }, contractSettings()).connect());
    await first.close();
    const afterClose = new EmbeddedTransport({ path }, contractSettings());
    const reopened = await refusal(() => afterClose.connect());
    await afterClose.close();

    // Assert
    expect({ whileOpen: (whileOpen as Error).name, pid: (whileOpen as StoreLockedError).holderPid, reopened }).toEqual({ whileOpen: 'StoreLockedError', pid: process.pid, reopened: 'opened' });
  });
});
