import { KanbanError } from './kanban.error';

/** Another process holds the store file; two processes on one SQLite file would each fence the other's leases as lapsed. */
export class StoreLockedError extends KanbanError {
  constructor(
    readonly path: string,
    readonly holderPid: number | undefined,
  ) {
    super(
      `The store file ${path} is in use by ${holderPid !== undefined ? `process ${holderPid}` : 'another process'}; only one process may open it. Stop that process or give this one its own file (embedded.path, KANBAN_EMBEDDED_PATH)`,
      { path, holderPid },
    );
  }
}
