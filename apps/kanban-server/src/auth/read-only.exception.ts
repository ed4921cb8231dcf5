import { ForbiddenException } from '@nestjs/common';

export const READ_ONLY_CODE = 'read_only';

/** 403 `read_only`: the read-only token (or its session) tried to change something. */
export class ReadOnlyException extends ForbiddenException {
  constructor() {
    super({ statusCode: 403, error: 'Forbidden', code: READ_ONLY_CODE, message: 'The read-only token can read everything and change nothing: use KANBAN_API_TOKEN for this request' });
  }
}
