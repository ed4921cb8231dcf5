import { SetMetadata } from '@nestjs/common';

export const REQUIRES_TOKEN = 'kanban-server:requires-token';

/**
 * Requires the bearer token on reads too (mutating routes always require it): for routes whose
 * responses carry payloads, such as the dead-letter queue.
 */
export const RequiresToken = (): ClassDecorator & MethodDecorator => SetMetadata(REQUIRES_TOKEN, true);
