import { ForbiddenException } from '@nestjs/common';
import { CSRF_HEADER } from './session.constants';

export const CSRF_CODE = 'csrf';

/** 403 `csrf`: a mutation made with the session cookie without its CSRF value. */
export class CsrfException extends ForbiddenException {
  constructor() {
    super({
      statusCode: 403,
      error: 'Forbidden',
      code: CSRF_CODE,
      message: `A request authenticated by the session cookie must send the kanban_csrf cookie's value in ${CSRF_HEADER} to change anything`,
    });
  }
}
