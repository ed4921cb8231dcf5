import { Module } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { register } from 'prom-client';
import { MetricsController } from './metrics.controller';

/**
 * prom-client default gauges whose `_total` suffix `promtool check metrics` rejects (only counters
 * end in `_total`); `nodejs_active_handles`, `_requests` and `_resources`, by type, carry the same counts.
 */
const MISNAMED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * `register()` runs once, when this file loads: the default metrics it collects live in prom-client's
 * process-wide registry, and registering them twice would throw.
 */
const prometheus = PrometheusModule.register({ controller: MetricsController });
for (const name of MISNAMED_DEFAULT_METRICS) register.removeSingleMetric(name);

/** `/metrics`. */
@Module({
  imports: [prometheus],
})
export class MetricsModule {}
