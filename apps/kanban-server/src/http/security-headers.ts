import type { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

/** Express sets `secure` for a request over TLS, or through a trusted proxy's X-Forwarded-Proto: https. */
type ExpressRequest = IncomingMessage & { secure: boolean };

/**
 * Helmet's headers on every answer. Its CSP's `upgrade-insecure-requests` is sent only on requests
 * that came over TLS: on plain HTTP it makes a browser fetch a page's own scripts and styles over
 * https://, which a server speaking HTTP does not answer, and pages such as `/docs` load without them.
 */
export function useSecurityHeaders(app: NestExpressApplication): void {
  const overTls = helmet();
  const overPlainHttp = helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });
  app.use((request: ExpressRequest, response: ServerResponse, next: (error?: unknown) => void) => (request.secure ? overTls : overPlainHttp)(request, response, next));
}
