import { applyDecorators } from '@nestjs/common';
import { IsIn, IsString, Matches } from 'class-validator';
import { DOMAIN_PATTERN, GROUP_PATTERN, PRIORITIES } from '@tps/kanban';

const DOMAIN_RULE = `must match ${DOMAIN_PATTERN.source} (lowercase letter first, then up to 62 of a-z 0-9 _ -; no '.', '*', '>' or spaces)`;

/** A domain as the library accepts it: it becomes a subject token, so nothing else gets through. */
export function IsKanbanDomain(): PropertyDecorator {
  return applyDecorators(IsString({ message: 'must be a string' }), Matches(DOMAIN_PATTERN, { message: DOMAIN_RULE }));
}

const GROUP_RULE = `must match ${GROUP_PATTERN.source} (lowercase letter first, then up to 63 of a-z 0-9 _ -; no '.', '*', '>' or spaces)`;

/** A group (tenant key): like a domain, it becomes a subject token. */
export function IsKanbanGroup(): PropertyDecorator {
  return applyDecorators(IsString({ message: 'must be a string' }), Matches(GROUP_PATTERN, { message: GROUP_RULE }));
}

export function IsKanbanPriority(): PropertyDecorator {
  return IsIn(PRIORITIES, { message: `must be one of ${PRIORITIES.join(', ')}` });
}
