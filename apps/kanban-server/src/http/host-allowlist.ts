import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { isIP } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HostNotAllowedException } from './host-not-allowed.exception';

const LOOPBACK_NAME = 'localhost';
const logger = new Logger('HostAllowlist');

/** The name in a Host header, lower case, without port, brackets or the root's trailing dot. */
export function hostNameOf(host: string): string {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '');
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * A DNS-rebound page reaches the server under the attacker's name, so only names the server knows
 * are answered. `localhost` and IP addresses are always answered: no one can rebind them. The raw
 * Host header is read, never X-Forwarded-Host, which any client can set.
 */
export function isHostAllowed(host: string | undefined, allowed: readonly string[]): boolean {
  // A browser always sends Host; a request without one cannot come from a rebound page.
  if (host === undefined) return true;
  const name = hostNameOf(host);
  return name === LOOPBACK_NAME || isIP(name) !== 0 || allowed.includes(name);
}

/** Refuses, before anything else runs, requests whose Host is not in `allowed` (undefined: every Host is answered). */
export function useHostAllowlist(app: NestExpressApplication, allowed: readonly string[] | undefined): void {
  if (allowed === undefined) return;
  app.use((request: IncomingMessage, _response: ServerResponse, next: (error?: unknown) => void) => {
    if (isHostAllowed(request.headers.host, allowed)) return next();
    logger.warn(`403 ${request.method ?? ''} ${request.url ?? ''}: Host ${JSON.stringify(request.headers.host?.slice(0, 255))} is not allowed`);
    next(new HostNotAllowedException());
  });
}
