import { ForbiddenException } from '@nestjs/common';

/** 403 `read_only`: the read-only token (or its session) tried to change something. */
export class ReadOnlyException extends ForbiddenException {
  constructor() {
    super({ statusCode: 403, error: 'Forbidden', code: 'read_only', message: 'The read-only token can read everything and change nothing: use KANBAN_API_TOKEN for this request' });
  }
}
