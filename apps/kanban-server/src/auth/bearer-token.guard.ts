import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { SERVER_CONFIG, type ServerConfig } from '../config';
import type { AccessRole, AuthenticatedRequest } from './access-role';
import { ALLOWS_ANONYMOUS } from './allows-anonymous.decorator';
import { CsrfException } from './csrf.exception';
import { ReadOnlyException } from './read-only.exception';
import { REQUIRES_TOKEN } from './requires-token.decorator';
import { requestCookie } from './request-cookies';
import { RoleCredentials } from './role-credentials';
import { CSRF_HEADER, SESSION_COOKIE } from './session.constants';

/** Methods that change nothing; every other method is a mutation (the OpenAPI document mirrors this). */
export const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
const BEARER = /^Bearer +(\S+) *$/i;

/**
 * With KANBAN_API_TOKEN set, every mutating request and every `@RequiresToken()` route needs
 * `Authorization: Bearer <token>` or the dashboard's session cookie; a mutation made with the
 * cookie also needs its CSRF header, and the read-only token (KANBAN_READONLY_TOKEN) is refused
 * every mutation. Without a token the server listens on loopback only, so the guard lets
 * everything through as the operator.
 */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  private readonly credentials: RoleCredentials;

  constructor(
    @Inject(SERVER_CONFIG) config: ServerConfig,
    private readonly reflector: Reflector,
  ) {
    this.credentials = new RoleCredentials(config);
  }

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!this.credentials.required) {
      request.kanbanRole = 'operator';
      return true;
    }
    const targets = [context.getHandler(), context.getClass()];
    const mutating = !READ_METHODS.has(request.method ?? '');
    if (mutating && this.reflector.getAllAndOverride<boolean>(ALLOWS_ANONYMOUS, targets)) return true;
    if (!mutating && !this.reflector.getAllAndOverride<boolean>(REQUIRES_TOKEN, targets)) return true;

    const role = this.roleOf(request, mutating);
    if (role === undefined) return this.unauthorized(context, request);
    if (mutating && role === 'read_only') throw new ReadOnlyException();
    request.kanbanRole = role;
    return true;
  }

  /** The bearer token's role if one is presented, else the session cookie's (with its CSRF header on a mutation). */
  private roleOf(request: AuthenticatedRequest, mutating: boolean): AccessRole | undefined {
    const presented = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (presented !== undefined) return this.credentials.roleOfToken(presented);
    const session = requestCookie(request, SESSION_COOKIE);
    const role = session === undefined ? undefined : this.credentials.verify(session, Date.now());
    if (role === undefined || !mutating) return role;
    const csrf = request.headers[CSRF_HEADER];
    if (typeof csrf !== 'string' || !this.credentials.csrfMatches(session as string, csrf)) throw new CsrfException();
    return role;
  }

  private unauthorized(context: ExecutionContext, request: AuthenticatedRequest): never {
    context.switchToHttp().getResponse<ServerResponse>().setHeader('WWW-Authenticate', 'Bearer realm="kanban"');
    const presented = request.headers.authorization !== undefined || requestCookie(request, SESSION_COOKIE) !== undefined;
    throw new UnauthorizedException(presented ? 'The bearer token or session is not valid' : 'Authorization: Bearer <KANBAN_API_TOKEN> (or a dashboard session) is required');
  }
}
