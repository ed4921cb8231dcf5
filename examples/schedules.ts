import { Module, type DynamicModule } from '@nestjs/common';
import { KanbanModule, KanbanScheduler } from '@tps/kanban';

@Module({})
export class ReportsModule {
  static register(dbPath: string): DynamicModule {
    return {
      module: ReportsModule,
      imports: [
        KanbanModule.forRoot({
          embedded: { path: dbPath },
          // Declared in code: stored on start-up, replacing the stored schedule of the same name.
          schedules: [{ name: 'nightly-report', priority: 'low', domain: 'reports', cron: '0 0 2 * * *', deadlineMs: 3_600_000 }],
        }),
      ],
    };
  }
}

/** Created at run time: stored before it resolves, so it is still there after a restart. */
export async function scheduleHeartbeat(scheduler: KanbanScheduler): Promise<string> {
  return scheduler.schedulePeriodic('normal', 'heartbeat', 60_000, 30_000, { source: 'docs' }, { name: 'heartbeat', whenBusy: 'skip', catchUp: 'one' });
}
