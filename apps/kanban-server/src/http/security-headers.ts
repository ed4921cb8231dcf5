import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';

/**
 * Helmet's headers on every answer. Its CSP's `upgrade-insecure-requests` stays only on requests
 * that came over TLS (directly or, with `trust proxy`, through a proxy's X-Forwarded-Proto): on
 * plain HTTP it makes a browser fetch a page's own scripts and styles over https://, which a server
 * speaking HTTP does not answer, and pages such as `/docs` load without them.
 */
export function useSecurityHeaders(app: INestApplication): void {
  const overTls = helmet();
  const overPlainHttp = helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });
  app.use((request: Request, response: Response, next: NextFunction) => (request.secure ? overTls : overPlainHttp)(request, response, next));
}
