import type { LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { KanbanModule, type KanbanModuleOptions } from '@tps/kanban';

/** Compiles and initialises a KanbanModule with `options`, logging to `logger`, and closes it again: throws what start-up throws. */
export async function startAndCloseKanbanModule(options: KanbanModuleOptions, logger: LoggerService): Promise<void> {
  const module = await Test.createTestingModule({ imports: [KanbanModule.forRoot(options)] })
    .setLogger(logger)
    .compile();
  try {
    await module.init();
  } finally {
    await module.close().catch(() => undefined);
  }
}
