import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { KanbanModule } from '@tps/kanban';
import { BearerTokenGuard } from './auth';
import { ServerConfigModule, type ServerConfig } from './config';
import { CoordinatorApiModule } from './coordinator';
import { DashboardModule } from './dashboard';
import { DeadLettersModule } from './dead-letters';
import { ApiExceptionFilter } from './errors';
import { GroupsApiModule } from './groups';
import { HealthModule } from './health';
import { MetricsModule } from './metrics';
import { QueuesModule } from './queues';
import { SchedulesModule } from './schedules';
import { ApiValidationPipe } from './validation';
import { WorkModule } from './work';

const RATE_LIMIT_WINDOW_MS = 1000;

/**
 * The kanban server: the library on the configured brokers, behind the HTTP API. `handlers` are
 * providers with `@KanbanHandler` methods that run in-process beside it (an app embedding the
 * server); the server itself has none.
 */
@Module({})
export class AppModule {
  static forRoot(config: ServerConfig, handlers: Type[] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServerConfigModule.forRoot(config),
        KanbanModule.forRoot(config.kanban),
        ThrottlerModule.forRoot({
          throttlers: [{ ttl: RATE_LIMIT_WINDOW_MS, limit: config.rateLimitPerSecond }],
          // Kanban handlers run through the RPC pipeline too; rate limits are for HTTP clients.
          skipIf: (context) => context.getType() !== 'http',
          errorMessage: `Too many requests: at most ${config.rateLimitPerSecond} per second per client; retry after Retry-After seconds`,
        }),
        WorkModule,
        QueuesModule,
        DeadLettersModule,
        GroupsApiModule,
        CoordinatorApiModule,
        SchedulesModule,
        HealthModule,
        MetricsModule,
        DashboardModule,
      ],
      providers: [
        ...handlers,
        // Guards run in this order: a flood is refused before tokens are compared.
        { provide: APP_GUARD, useClass: ThrottlerGuard },
        { provide: APP_GUARD, useClass: BearerTokenGuard },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        { provide: APP_PIPE, useValue: new ApiValidationPipe() },
      ],
    };
  }
}
