import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ServerConfig } from '../config';
import type { AccessRole } from './access-role';
import { digestsMatch, tokenDigest } from './token-digest';

/** Separates the session key from any other use of the token. */
const SESSION_KEY_CONTEXT = 'kanban-dashboard-session/v1';
const CSRF_CONTEXT = 'csrf';

export interface OpenedSession {
  role: AccessRole;
  /** The session cookie's value: `{role}.{expiresAt}.{signature}`. */
  session: string;
  /** The CSRF value bound to that session, which the page sends back on every mutation. */
  csrf: string;
}

interface RoleKey {
  role: AccessRole;
  digest: Buffer;
  sessionKey: Buffer;
}

function hmac(key: Buffer | string, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

function signatureMatches(expected: Buffer, presented: string): boolean {
  const bytes = Buffer.from(presented, 'base64url');
  return bytes.length === expected.length && timingSafeEqual(expected, bytes);
}

/**
 * The server's tokens and the sessions signed with them, without a session store: each role's
 * session key is derived from its token, so every instance configured with the same tokens accepts
 * a session any of them signed (replicas behind a load balancer), and changing a token ends its sessions.
 */
export class RoleCredentials {
  private readonly roles: RoleKey[];

  constructor(config: Pick<ServerConfig, 'apiToken' | 'readOnlyToken'>) {
    const tokens: Array<[AccessRole, string | undefined]> = [
      ['operator', config.apiToken],
      ['read_only', config.readOnlyToken],
    ];
    this.roles = tokens.flatMap(([role, token]) => (token ? [{ role, digest: tokenDigest(token), sessionKey: hmac(token, SESSION_KEY_CONTEXT) }] : []));
  }

  /** Whether the server has any token; without one it serves loopback only and asks for none. */
  get required(): boolean {
    return this.roles.length > 0;
  }

  /** The role whose token was presented, compared in constant time. */
  roleOfToken(presented: string): AccessRole | undefined {
    // Every digest is compared, so timing does not tell which role a guess came close to.
    const matches = this.roles.filter((key) => digestsMatch(key.digest, presented));
    return matches[0]?.role;
  }

  /** A session for the presented token, valid until `expiresAt`; undefined for a wrong token. */
  open(presented: string, expiresAt: number): OpenedSession | undefined {
    const key = this.roles.find((candidate) => candidate.role === this.roleOfToken(presented));
    if (!key) return undefined;
    const claims = `${key.role}.${expiresAt}`;
    const session = `${claims}.${hmac(key.sessionKey, claims).toString('base64url')}`;
    return { role: key.role, session, csrf: hmac(key.sessionKey, `${CSRF_CONTEXT}.${session}`).toString('base64url') };
  }

  /** The role of a well-signed session that has not expired at `now`; undefined for anything else. */
  verify(session: string, now: number): AccessRole | undefined {
    const key = this.keyOfSession(session);
    if (!key) return undefined;
    const [role, expiresAt, signature] = session.split('.');
    if (!signatureMatches(hmac(key.sessionKey, `${role}.${expiresAt}`), signature) || Number(expiresAt) <= now) return undefined;
    return key.role;
  }

  /** Whether `presented` is the CSRF value bound to this session. */
  csrfMatches(session: string, presented: string): boolean {
    const key = this.keyOfSession(session);
    return key !== undefined && signatureMatches(hmac(key.sessionKey, `${CSRF_CONTEXT}.${session}`), presented);
  }

  private keyOfSession(session: string): RoleKey | undefined {
    const parts = session.split('.');
    if (parts.length !== 3 || !/^\d+$/.test(parts[1])) return undefined;
    return this.roles.find((key) => key.role === parts[0]);
  }
}
