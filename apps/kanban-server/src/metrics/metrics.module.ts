import { Module } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { MetricsController } from './metrics.controller';

/**
 * `/metrics`. `register()` runs once, when this file loads: the default metrics it collects live in
 * prom-client's process-wide registry, and registering them twice would throw.
 */
@Module({
  imports: [PrometheusModule.register({ controller: MetricsController })],
})
export class MetricsModule {}
