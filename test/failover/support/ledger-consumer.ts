import { Injectable, type Type } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { setTimeout as sleep } from 'node:timers/promises';
import { KanbanHandler, type KanbanContext } from '../../../libs/kanban/src';

/** What chaos tests publish: the ledger key travels with the item. */
export interface ChaosPayload {
  key: string;
}

/** Called with an item's key and attempt. */
export type OnProcessed = (key: string, attempt: number) => void;

export interface LedgerConsumerOptions {
  /** Work each item takes. @default 0 */
  delayMs?: number;
  /** Called when the handler starts an item. */
  onStarted?: OnProcessed;
}

/**
 * A `@KanbanHandler` provider for (normal, domain) that reports every completed processing (before
 * the worker acks it), optionally after `delayMs` of work.
 */
export function ledgerConsumer(domain: string, onProcessed: OnProcessed, options: LedgerConsumerOptions = {}): Type {
  @Injectable()
  class LedgerConsumer {
    @KanbanHandler({ priority: 'normal', domain })
    async handle(@Payload() payload: ChaosPayload, @Ctx() context: KanbanContext): Promise<void> {
      const { attempts } = context.getItem();
      options.onStarted?.(payload.key, attempts);
      if (options.delayMs) await sleep(options.delayMs);
      onProcessed(payload.key, attempts);
    }
  }
  return LedgerConsumer;
}
