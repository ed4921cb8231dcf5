import type { ApiPropertyOptions } from '@nestjs/swagger';
import { DOMAIN_PATTERN, GROUP_PATTERN, PRIORITIES } from '@tps/kanban';

/** A domain as `@IsKanbanDomain()` accepts it. */
export const DOMAIN_PROPERTY: ApiPropertyOptions = { type: 'string', pattern: DOMAIN_PATTERN.source, example: 'billing', description: 'Lowercase letter first, then up to 62 of a-z 0-9 _ -' };

/** A group as `@IsKanbanGroup()` accepts it. */
export const GROUP_PROPERTY: ApiPropertyOptions = {
  type: 'string',
  pattern: GROUP_PATTERN.source,
  example: 'merchant-42',
  description: 'Tenant key for fair share within the domain: lowercase letter first, then up to 63 of a-z 0-9 _ -; absent = the default group',
};

/** A priority as `@IsKanbanPriority()` accepts it. */
export const PRIORITY_PROPERTY: ApiPropertyOptions = { enum: PRIORITIES, enumName: 'Priority' };
