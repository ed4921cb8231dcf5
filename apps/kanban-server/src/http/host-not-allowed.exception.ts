import { ForbiddenException } from '@nestjs/common';

/** The request named a Host this server does not answer to (a DNS-rebound page, or a wrong name). */
export class HostNotAllowedException extends ForbiddenException {
  constructor() {
    super({
      statusCode: 403,
      error: 'Forbidden',
      code: 'host_not_allowed',
      message: 'This server does not answer to that Host name; an operator can list it in KANBAN_ALLOWED_HOSTS',
    });
  }
}
