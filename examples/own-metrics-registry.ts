import { Controller, Get, Header, Inject, Module, type DynamicModule } from '@nestjs/common';
import { Registry } from 'prom-client';
import { KanbanModule } from '@tps/kanban';

// Your registry, shared with your own metrics; kanban never registers in prom-client's global one.
export const METRICS_REGISTRY = 'METRICS_REGISTRY';

@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

@Module({})
export class MetricsAppModule {
  static register(registry: Registry, dbPath: string): DynamicModule {
    return {
      module: MetricsAppModule,
      imports: [KanbanModule.forRoot({ embedded: { path: dbPath }, registry })],
      controllers: [MetricsController],
      providers: [{ provide: METRICS_REGISTRY, useValue: registry }],
    };
  }
}
