import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import { KanbanContext, KanbanCoordinator, KanbanHandler, KanbanModule, KanbanQueue, type CoordinatorHealth } from '@tps/kanban';

export const charged: number[] = [];

@Injectable()
export class PaymentConsumer {
  // Resolving acks the item; throwing retries it with backoff, then dead-letters it (max_attempts).
  @KanbanHandler({ priority: 'high', domain: 'payment' })
  async charge(@Payload() payment: { amount: number }, @Ctx() context: KanbanContext) {
    charged.push(payment.amount);
    console.log(`charging ${payment.amount} (attempt ${context.getAttempts()})`);
  }
}

@Module({})
export class AppModule {
  static register(dbPath: string): DynamicModule {
    return {
      module: AppModule,
      // or KanbanModule.forRoot({ nats: { servers: ['nats://127.0.0.1:4222'] } })
      imports: [KanbanModule.forRoot({ embedded: { path: dbPath } })],
      providers: [PaymentConsumer],
    };
  }
}

export async function helloKanban(dbPath = './data/hello.db'): Promise<{ id: string; acked: string[]; health: CoordinatorHealth }> {
  const app = await NestFactory.createApplicationContext(AppModule.register(dbPath), { logger: ['error', 'warn'] });
  app.enableShutdownHooks(); // SIGTERM drains: intake refused, in-flight work finishes, workers stop
  const queue = app.get(KanbanQueue);

  // Publish high-priority payment work; resolves once the broker holds it durably.
  const { id } = await queue.publish({ priority: 'high', domain: 'payment', payload: { amount: 100.5 }, deadlineMs: 30_000 });

  // The @KanbanHandler worker pulls and acks it. Workers elsewhere pull for themselves:
  await queue.publish({ priority: 'normal', domain: 'fraud', payload: { check: id }, deadlineMs: 30_000 });
  const items = await queue.pull({ domain: 'fraud', max: 10, waitMs: 1_000 });
  const acked: string[] = [];
  for (const item of items) {
    // do the real work here, then
    await queue.ack(item.id, item.domain, item.lease);
    acked.push(item.id);
  }

  const health = app.get(KanbanCoordinator).getHealth();
  // { current_workers: 1, target_workers: 1, queue_depth_samples: [...], queue_draining: false, timestamp: ..., ... }
  await app.close();
  return { id, acked, health };
}

if (require.main === module) {
  helloKanban().then(
    (result) => console.log(result),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
