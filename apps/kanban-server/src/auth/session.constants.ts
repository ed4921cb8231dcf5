/** HttpOnly cookie holding the signed session. */
export const SESSION_COOKIE = 'kanban_session';
/** Script-readable cookie holding the CSRF value the page sends back in CSRF_HEADER. */
export const CSRF_COOKIE = 'kanban_csrf';
/** Header every mutation made with the session cookie must carry. */
export const CSRF_HEADER = 'x-kanban-csrf';
/** How long a dashboard login lasts. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
