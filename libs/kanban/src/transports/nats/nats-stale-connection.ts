import type { NatsConnection, Server } from '@nats-io/transport-node';

/** The part of nats.js's connection internals that holds the socket of the server it is on. */
interface NatsSocketInternals {
  protocol?: { transport?: { done?: boolean; socket?: { destroyed: boolean; destroy(): void } } };
}

/**
 * Leaves a connection nats.js found stale (pings unanswered), for a server cut off by a network
 * partition: it sends no reset, and nats.js 3 alone neither closes the connection in time nor
 * dials another server first.
 */
export class NatsStaleConnection {
  private staleServer?: string;

  /**
   * nats.js's `reconnectToServer`: the dial after a stale connection skips its server, which
   * nats.js would dial first and which answers nothing until the connect timeout passes.
   */
  readonly pickServer = (pool: ReadonlyArray<Server>): Server | null => {
    const stale = this.staleServer;
    this.staleServer = undefined;
    if (stale === undefined || pool[0]?.listen !== stale) return null;
    return pool.find((server) => server.listen !== stale) ?? null;
  };

  /**
   * On nats.js's `staleConnection` status. nats.js flushes the socket before closing it; with the
   * send buffer full (under load) that flush never ends and no reconnect follows. The destroyed
   * socket closes at once, and nats.js reconnects as after any lost connection.
   */
  leave(nc: NatsConnection): void {
    this.staleServer = nc.getServer();
    const transport = (nc as unknown as NatsSocketInternals).protocol?.transport;
    if (!transport || transport.done || !transport.socket || transport.socket.destroyed) return;
    transport.socket.destroy();
  }
}
