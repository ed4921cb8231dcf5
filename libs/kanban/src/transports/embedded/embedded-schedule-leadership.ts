import type { ScheduleLeadership } from '../../scheduler/schedule-coordination.interface';

/**
 * The embedded store is one SQLite file that one process at a time may open (its process lock),
 * so the process holding the file is the leader for as long as it runs.
 */
export class EmbeddedScheduleLeadership implements ScheduleLeadership {
  epoch = 0;
  private leader = false;

  start(): void {
    this.leader = true;
    this.epoch++;
  }

  isLeader(): boolean {
    return this.leader;
  }

  close(): Promise<void> {
    this.leader = false;
    return Promise.resolve();
  }
}
