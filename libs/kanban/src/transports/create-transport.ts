import { Logger } from '@nestjs/common';
import type { KanbanResolvedOptions } from '../interfaces/kanban-options.interface';
import { transportSettingsFrom } from '../kanban-options';
import type { KanbanTransport } from '../transport/kanban-transport';
import { EmbeddedTransport } from './embedded';

/** The built-in choice: the embedded store when no broker is configured. */
export function createTransport(options: KanbanResolvedOptions): KanbanTransport {
  const settings = transportSettingsFrom(options);
  new Logger('KanbanModule').log(`Transport: embedded store at ${options.embedded.path}`);
  return new EmbeddedTransport(options.embedded, settings);
}
