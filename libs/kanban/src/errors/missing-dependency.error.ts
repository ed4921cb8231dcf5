import { KanbanError } from './kanban.error';

/**
 * A broker client or the SQLite driver the chosen transport needs is not installed. They are
 * optional peer dependencies, so that an app installs only what its transport uses.
 */
export class MissingDependencyError extends KanbanError {
  constructor(
    readonly packageName: string,
    usedBy: string,
    options?: { cause?: unknown },
  ) {
    super(`${usedBy} needs the package ${packageName}, which is not installed: run npm install ${packageName}`, { package: packageName }, options);
  }
}
