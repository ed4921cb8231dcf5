import { Injectable, type Type } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { setTimeout as sleep } from 'node:timers/promises';
import { KanbanHandler, type KanbanContext } from '../../../libs/kanban/src';

/** What chaos tests publish: the ledger key travels with the item. */
export interface ChaosPayload {
  key: string;
}

/** Called with each item the handler completed (before its ack). */
export type OnProcessed = (key: string, attempt: number) => void;

/**
 * A `@KanbanHandler` provider for (normal, domain) that reports every completed processing,
 * optionally after `delayMs` of work.
 */
export function ledgerConsumer(domain: string, onProcessed: OnProcessed, delayMs = 0): Type {
  @Injectable()
  class LedgerConsumer {
    @KanbanHandler({ priority: 'normal', domain })
    async handle(@Payload() payload: ChaosPayload, @Ctx() context: KanbanContext): Promise<void> {
      if (delayMs > 0) await sleep(delayMs);
      onProcessed(payload.key, context.getItem().attempts);
    }
  }
  return LedgerConsumer;
}
