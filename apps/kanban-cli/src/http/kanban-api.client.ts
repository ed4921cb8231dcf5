import { ApiError, ServerUnreachableError, UnreadableAnswerError, type ApiErrorBody } from '../errors';

export interface KanbanApiSettings {
  /** The server's base URL, without credentials. */
  url: URL;
  /** Sent as `Authorization: Bearer …`; never printed. */
  token?: string;
  timeoutMs: number;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Error statuses whose body is still the answer (GET /health answers 503 with its document). */
  acceptStatuses?: number[];
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
}

function reasonOf(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

type Body = { readable: true; value: unknown } | { readable: false };

async function readBody(response: Response): Promise<Body> {
  const text = await response.text();
  if (text === '') return { readable: true, value: undefined };
  try {
    return { readable: true, value: JSON.parse(text) };
  } catch {
    return { readable: false };
  }
}

/** The server's HTTP API, one method per verb; an error status becomes an ApiError with the server's code. */
export class KanbanApiClient {
  constructor(private readonly settings: KanbanApiSettings) {}

  /** The URL as printed: the server's origin and path, never a token. */
  get displayUrl(): string {
    return this.settings.url.href.replace(/\/$/, '');
  }

  async get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.request<T>('GET', path, options)).body;
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    return (await this.request<T>('POST', path, { body })).body;
  }

  async put<T>(path: string, body: unknown): Promise<T> {
    return (await this.request<T>('PUT', path, { body })).body;
  }

  async delete(path: string): Promise<void> {
    await this.request<void>('DELETE', path);
  }

  /** @throws ServerUnreachableError, ApiError, UnreadableAnswerError */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiAnswer<T>> {
    const url = new URL(path.replace(/^\//, ''), this.settings.url.href.endsWith('/') ? this.settings.url : `${this.settings.url.href}/`);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.settings.token !== undefined) headers.authorization = `Bearer ${this.settings.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';

    let response: Response;
    let body: Body;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      body = await readBody(response);
    } catch (error) {
      throw new ServerUnreachableError(this.displayUrl, reasonOf(error, this.settings.timeoutMs));
    }
    if (response.ok || options.acceptStatuses?.includes(response.status)) {
      if (!body.readable) throw new UnreadableAnswerError(`${method} ${url.pathname}`, response.status);
      return { status: response.status, body: body.value as T };
    }
    const errorBody = body.readable && typeof body.value === 'object' && body.value !== null ? (body.value as ApiErrorBody) : {};
    throw new ApiError(response.status, errorBody);
  }
}
