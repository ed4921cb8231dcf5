import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { KanbanModule, type KanbanModuleOptions } from '@tps/kanban';

@Module({
  imports: [
    ConfigModule.forRoot(),
    KanbanModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService): KanbanModuleOptions => {
        const natsServers = config.get<string>('KANBAN_NATS_SERVERS');
        return {
          // NATS when configured, else the embedded store at KANBAN_EMBEDDED_PATH.
          ...(natsServers ? { nats: { servers: natsServers.split(',') } } : { embedded: { path: config.get<string>('KANBAN_EMBEDDED_PATH', './data/kanban.db') } }),
          workerPullSize: Number(config.get<string>('KANBAN_WORKER_PULL_SIZE', '10')),
          maxAttempts: Number(config.get<string>('KANBAN_MAX_ATTEMPTS', '3')),
        };
      },
    }),
  ],
})
export class AppModule {}
