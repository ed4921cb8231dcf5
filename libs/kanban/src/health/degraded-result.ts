import type { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';

type HealthIndicatorSession = ReturnType<HealthIndicatorService['check']>;
/** A session of any supported Terminus major: `degraded` came with Terminus 12.1. */
type AnyTerminusSession = Omit<HealthIndicatorSession, 'degraded'> & Partial<Pick<HealthIndicatorSession, 'degraded'>>;

/**
 * `degraded` where Terminus has it (the check answers 200 with status `degraded`). Older Terminus
 * knows only up and down and leaves any other status out of its answer, so there a degraded
 * indicator is reported up, still serving, with `degraded: true` to show it.
 */
export function degradedResult(session: AnyTerminusSession, data: Record<string, unknown>): HealthIndicatorResult {
  return session.degraded ? session.degraded(data) : session.up({ ...data, degraded: true });
}
