import type { IncomingMessage, ServerResponse } from 'node:http';
import { CSRF_COOKIE, SESSION_COOKIE } from './session.constants';

/** What Express adds to the request: `secure` follows `trust proxy` for X-Forwarded-Proto. */
export type ExpressRequest = IncomingMessage & { secure: boolean; ip?: string };

function cookie(name: string, value: string, maxAgeMs: number, httpOnly: boolean, secure: boolean): string {
  // SameSite=Strict: the browser never sends either cookie on a request another site starts.
  const attributes = [`${name}=${encodeURIComponent(value)}`, 'Path=/', `Max-Age=${Math.floor(maxAgeMs / 1000)}`, 'SameSite=Strict'];
  if (httpOnly) attributes.push('HttpOnly');
  if (secure) attributes.push('Secure');
  return attributes.join('; ');
}

/** The HttpOnly session cookie and the script-readable CSRF cookie, or (maxAgeMs 0, empty values) their removal. */
export function setSessionCookies(request: ExpressRequest, response: ServerResponse, session: string, csrf: string, maxAgeMs: number): void {
  response.setHeader('Set-Cookie', [cookie(SESSION_COOKIE, session, maxAgeMs, true, request.secure), cookie(CSRF_COOKIE, csrf, maxAgeMs, false, request.secure)]);
}
