import type { IncomingMessage } from 'node:http';

/** `operator`: the API token, every route. `read_only`: the read-only token, every read and no mutation. */
export type AccessRole = 'operator' | 'read_only';

/** A request the guard let through, with the role it proved (operator when the server has no token). */
export interface AuthenticatedRequest extends IncomingMessage {
  kanbanRole?: AccessRole;
}
