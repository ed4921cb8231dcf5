import { SetMetadata } from '@nestjs/common';

export const ALLOWS_ANONYMOUS = 'kanban-server:allows-anonymous';

/** A mutating route that needs no token: logging in (it checks the token itself) and logging out. */
export const AllowsAnonymous = (): MethodDecorator => SetMetadata(ALLOWS_ANONYMOUS, true);
