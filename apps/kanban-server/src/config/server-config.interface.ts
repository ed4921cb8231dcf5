import type { KanbanModuleOptions } from '@tps/kanban';

/** Everything the server reads from its environment, validated and with defaults filled in. */
export interface ServerConfig {
  port: number;
  /** Interface to listen on: loopback unless a token protects the API. */
  host: string;
  /** Bearer token required on mutating and dead-letter routes; unset means no auth (loopback only). */
  apiToken?: string;
  /** Token that reads everything the API token reads and is refused every mutation (403 `read_only`); only with apiToken. */
  readOnlyToken?: string;
  /**
   * Host names answered besides `localhost` and IP addresses; any other `Host` gets 403 (DNS
   * rebinding). Undefined: every Host is answered, which only a token-protected server allows.
   */
  allowedHosts?: string[];
  rateLimitPerSecond: number;
  /**
   * Proxies whose X-Forwarded-For is believed (Express `trust proxy`): a hop count, or their
   * addresses. Unset: the client is the TCP peer and X-Forwarded-For is ignored.
   */
  trustProxy?: number | string[];
  /** Largest request body accepted; larger ones get 413. */
  bodyLimitBytes: number;
  /** Options for `KanbanModule.forRoot`, already checked by the library's own validation. */
  kanban: KanbanModuleOptions;
}
