import { UsageError } from '../errors';
import type { KanbanApiSettings } from './kanban-api.client';

/** Where `npm start` serves the API. */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:3000';
/** How long one HTTP request may take before the CLI gives up with exit code 4. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** What an HTTP header value can carry: a token outside it would fail inside fetch, whose message quotes the value. */
const HEADER_SAFE_TOKEN = /^[\x21-\x7e]+$/;

function serverUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url / KANBAN_URL is not a URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url / KANBAN_URL must be http:// or https://, not ${url.protocol}`);
  if (url.username || url.password) throw new UsageError('--url / KANBAN_URL must not carry credentials: the token comes from KANBAN_API_TOKEN');
  url.search = '';
  url.hash = '';
  return url;
}

function apiToken(env: NodeJS.ProcessEnv): string | undefined {
  const token = env.KANBAN_API_TOKEN;
  if (token === undefined || token === '') return undefined;
  if (!HEADER_SAFE_TOKEN.test(token)) throw new UsageError('KANBAN_API_TOKEN holds spaces, line breaks or other characters a header cannot carry');
  return token;
}

/** The server to talk to: `--url`, else KANBAN_URL, else the local default; the token from KANBAN_API_TOKEN only, so it never shows in `ps`. */
export function connectionSettings(options: { url?: string; timeoutMs?: number }, env: NodeJS.ProcessEnv): KanbanApiSettings {
  return {
    url: serverUrl(options.url ?? (env.KANBAN_URL || DEFAULT_SERVER_URL)),
    token: apiToken(env),
    timeoutMs: options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  };
}
