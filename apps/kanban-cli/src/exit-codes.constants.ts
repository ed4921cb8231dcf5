/**
 * The process exit codes, part of the CLI's contract: scripts branch on them, so a code never
 * changes meaning. 4 is the one worth retrying later.
 */
export const ExitCode = {
  /** Done. */
  ok: 0,
  /** Unknown command or option, a missing or malformed argument: nothing was sent. */
  usage: 1,
  /** 404 or 409: no such dead letter or schedule, a schedule name taken. */
  notFound: 2,
  /** 401 or 403: no token, a wrong token, or a host the server does not answer to. */
  auth: 3,
  /** No answer (connection refused, timeout), 503 (draining, broker down), 429 (queue full, rate limit), 502/504. */
  unavailable: 4,
  /** The server refused the request as invalid: 400 (every invalid field listed), 413. */
  rejected: 5,
  /** 500 or an answer the CLI cannot read. */
  serverError: 6,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
