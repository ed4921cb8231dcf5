import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

const INDICATORS = { type: 'object', additionalProperties: { type: 'object', properties: { status: { type: 'string' } }, additionalProperties: true } } as const;

/** Terminus's health document: 200 while every indicator is up or degraded, 503 once one is down. */
@ApiSchema({ name: 'HealthCheckResult' })
export class HealthCheckResultSchema {
  @ApiProperty({ enum: ['ok', 'error', 'shutting_down'] })
  status!: string;

  @ApiPropertyOptional({ ...INDICATORS, description: 'Indicators that are up (broker, queue, workers)' })
  info?: object;

  @ApiPropertyOptional({ ...INDICATORS, description: 'Indicators that are down' })
  error?: object;

  @ApiProperty({ ...INDICATORS, description: 'Every indicator' })
  details!: object;
}
