import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SERVER_CONFIG, type ServerConfig } from '../config';
import { REQUIRES_TOKEN } from './requires-token.decorator';
import { digestsMatch, tokenDigest } from './token-digest';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BEARER = /^Bearer +(\S+) *$/i;

/**
 * With KANBAN_API_TOKEN set, every mutating request and every `@RequiresToken()` route needs
 * `Authorization: Bearer <token>`. Without a token the server listens on loopback only, so the
 * guard lets everything through.
 */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(
    @Inject(SERVER_CONFIG) config: ServerConfig,
    private readonly reflector: Reflector,
  ) {
    this.expected = config.apiToken ? tokenDigest(config.apiToken) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected || context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<IncomingMessage>();
    const protectedRead = this.reflector.getAllAndOverride<boolean>(REQUIRES_TOKEN, [context.getHandler(), context.getClass()]);
    if (READ_METHODS.has(request.method ?? '') && !protectedRead) return true;

    const presented = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (presented !== undefined && digestsMatch(this.expected, presented)) return true;
    context.switchToHttp().getResponse<ServerResponse>().setHeader('WWW-Authenticate', 'Bearer realm="kanban"');
    throw new UnauthorizedException(presented === undefined ? 'Authorization: Bearer <KANBAN_API_TOKEN> is required' : 'The bearer token is not valid');
  }
}
