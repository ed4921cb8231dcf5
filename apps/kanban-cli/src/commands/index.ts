import { breakersResetCommand } from './breakers-reset.command';
import type { Command } from './command.interface';
import { dlqListCommand } from './dlq-list.command';
import { dlqPurgeCommand } from './dlq-purge.command';
import { dlqReplayCommand } from './dlq-replay.command';
import { dlqShowCommand } from './dlq-show.command';
import { drainCommand } from './drain.command';
import { groupsLimitsCommand } from './groups-limits.command';
import { groupsListCommand } from './groups-list.command';
import { healthCommand } from './health.command';
import { publishCommand } from './publish.command';
import { queuesCommand } from './queues.command';
import { schedulesAddCommand } from './schedules-add.command';
import { schedulesListCommand } from './schedules-list.command';
import { schedulesRmCommand } from './schedules-rm.command';
import { topCommand } from './top.command';
import { workersSetCommand } from './workers-set.command';

export * from './command-input';
export * from './command.interface';
export * from './global-options';
export * from './help';

/** Every command, in the order `kanban --help` lists them. */
export const COMMANDS: Command[] = [
  healthCommand,
  queuesCommand,
  publishCommand,
  dlqListCommand,
  dlqShowCommand,
  dlqReplayCommand,
  dlqPurgeCommand,
  workersSetCommand,
  breakersResetCommand,
  drainCommand,
  schedulesListCommand,
  schedulesAddCommand,
  schedulesRmCommand,
  topCommand,
  groupsListCommand,
  groupsLimitsCommand,
];
