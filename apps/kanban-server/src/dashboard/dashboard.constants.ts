import { join } from 'node:path';

/** The page's files: apps/kanban-server/dashboard in the sources, copied beside the compiled server by `npm run build`. */
export const DASHBOARD_ASSETS_DIR = join(__dirname, '..', '..', 'dashboard');
/** How often the recorder looks for a new depth sample of the coordinator. */
export const DEPTH_POLL_INTERVAL_MS = 1_000;
/** How far back the depth chart and the throughput figures reach. */
export const ACTIVITY_WINDOW_MS = 10 * 60 * 1000;
/** Throughput is reported as acks over this last stretch. */
export const THROUGHPUT_WINDOW_MS = 60 * 1000;
/** Broker state changes kept for the failover history. */
export const BROKER_HISTORY_LENGTH = 50;
/**
 * The page's own policy instead of helmet's default: everything from this origin only, no inline
 * script or style, never framed; and no `upgrade-insecure-requests`, which would make browsers load
 * the page's files over https:// from a server that speaks plain HTTP.
 */
export const DASHBOARD_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
