import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { charged, helloKanban } from '../../examples/hello-kanban';

describe("the README's Hello Kanban", () => {
  const dir = mkdtempSync(join(tmpdir(), 'hello-kanban-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('publishes, lets the handler charge, pulls and acks, and reports health', async () => {
    const { id, acked, health } = await helloKanban(join(dir, 'hello.db'));

    expect(charged).toEqual([100.5]);
    expect(typeof id).toBe('string');
    expect(acked).toHaveLength(1);
    expect(health).toMatchObject({ current_workers: expect.any(Number), queue_draining: false, broker: { active: 'embedded', state: 'up' } });
  });
});
