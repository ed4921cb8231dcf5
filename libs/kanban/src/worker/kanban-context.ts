import { BaseRpcContext } from '@nestjs/microservices';
import type { Delivery } from '../interfaces/delivery.interface';
import type { WorkItem } from '../interfaces/work-item.interface';

/**
 * The `@Ctx()` of a kanban handler: the item being processed and a signal fired on processing
 * timeout. Args: the delivery, the controller behind getSignal() (its signal is made on first
 * use), the worker id.
 */
export class KanbanContext extends BaseRpcContext<[Delivery, AbortController, string]> {
  getItem(): WorkItem {
    return this.args[0].item;
  }

  getDelivery(): Delivery {
    return this.args[0];
  }

  getAttempts(): number {
    return this.args[0].item.attempts;
  }

  /** The id of the worker running this handler (`kanban.{priority}.{domain}#n`). */
  getWorkerId(): string {
    return this.args[2];
  }

  /** Aborted when the handler exceeds its processTimeoutMs (workerProcessTimeoutMs by default); long handlers should stop then. */
  getSignal(): AbortSignal {
    return this.args[1].signal;
  }
}
