import { Controller, Get, Inject, Res } from '@nestjs/common';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import type { ServerResponse } from 'node:http';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Registry, register } from 'prom-client';
import { KANBAN_METRICS_REGISTRY } from '@tps/kanban';
import { ApiErrors } from '../openapi';

/**
 * `GET /metrics`: prom-client's default registry (process and Node metrics) merged with kanban's own
 * registry, which the library keeps apart so that two apps in one process never collide.
 */
@ApiTags('metrics')
@Controller()
export class MetricsController extends PrometheusController {
  constructor(@Inject(KANBAN_METRICS_REGISTRY) private readonly kanbanRegistry: Registry) {
    super();
  }

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics in the text exposition format' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ schema: { type: 'string' } })
  @ApiErrors()
  override async index(@Res({ passthrough: true }) response: ServerResponse): Promise<string> {
    // Merged per scrape, so metrics registered after start-up are included too.
    const merged = this.kanbanRegistry === register ? register : Registry.merge([register, this.kanbanRegistry]);
    response.setHeader('Content-Type', merged.contentType);
    return merged.metrics();
  }
}
