import { ForbiddenException } from '@nestjs/common';

export const HOST_NOT_ALLOWED_CODE = 'host_not_allowed';

/** The request named a Host this server does not answer to (a DNS-rebound page, or a wrong name). */
export class HostNotAllowedException extends ForbiddenException {
  constructor() {
    super({
      statusCode: 403,
      error: 'Forbidden',
      code: HOST_NOT_ALLOWED_CODE,
      message: 'This server does not answer to that Host name; an operator can list it in KANBAN_ALLOWED_HOSTS',
    });
  }
}
