import { Injectable } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import type { DeadLetterReason } from '../interfaces/dead-letter.interface';
import type { BrokerName, Priority } from '../interfaces/work-item.interface';

export type KanbanEvent =
  | { type: 'published'; id: string; priority: Priority; domain: string; broker: BrokerName }
  | { type: 'acked'; id: string; priority: Priority; domain: string; broker: BrokerName }
  | { type: 'dead_lettered'; id: string; priority: Priority; domain: string; broker: BrokerName; reason: DeadLetterReason; error?: string };

/** In-process stream of settle events, so the scheduler can follow its canaries without polling. */
@Injectable()
export class KanbanEvents {
  private readonly subject = new Subject<KanbanEvent>();

  get events$(): Observable<KanbanEvent> {
    return this.subject.asObservable();
  }

  emit(event: KanbanEvent): void {
    this.subject.next(event);
  }
}
