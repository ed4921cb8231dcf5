import type { Logger } from '@nestjs/common';
import { Socket } from 'node:net';
import type { ChannelModel } from 'amqplib';
import { connect } from './amqp-client';
import { BrokerUnavailableError, MissingDependencyError } from '../../errors';
import { isAuthenticationFailure } from './rabbitmq-amqp-errors';
import type { RabbitMqEndpoint } from './rabbitmq-url';
import { RABBITMQ_RECONNECT_INITIAL_DELAY_MS, RABBITMQ_RECONNECT_JITTER, RABBITMQ_RECONNECT_MAX_DELAY_MS } from './rabbitmq.constants';

/** What the owner of the connection does as it comes and goes. */
export interface RabbitMqConnectionHooks {
  /** Runs on every (re)connect before anything else uses the connection; `generation` grows by one each time. */
  onConnected(model: ChannelModel, generation: number): Promise<void>;
  /** The connection is gone; every channel on it is closed and the broker requeued what they held. */
  onDisconnected(reason: string): void;
  /** The broker stopped reading from the connection (resource alarm) or started again. */
  onBlocked(blocked: boolean, reason?: string): void;
}

/**
 * One AMQP connection that comes back by itself: after a loss it reconnects with capped exponential
 * backoff until `close()`. Only the redacted URL is ever logged or put in an error.
 */
export class RabbitMqConnection {
  private model?: ChannelModel;
  private generation = 0;
  private attempt = 0;
  private timer?: NodeJS.Timeout;
  private connecting?: Promise<void>;
  private closed = false;
  private lastFailure?: string;
  /** Index into the endpoint's nodes of the node the next connect tries first. */
  private firstNode = 0;

  constructor(
    private readonly endpoint: RabbitMqEndpoint,
    private readonly hooks: RabbitMqConnectionHooks,
    private readonly logger: Logger,
  ) {}

  get isConnected(): boolean {
    return this.model !== undefined;
  }

  /**
   * Connects once. On failure it rejects with a typed error and keeps retrying in the background,
   * so a broker that comes up later is picked up without a restart.
   * @throws BrokerUnavailableError (unreachable, login refused) or whatever `onConnected` threw.
   */
  async start(): Promise<void> {
    if (this.model) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.tryConnect();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.connecting?.catch(() => undefined);
    const model = this.model;
    this.model = undefined;
    if (model) await model.close().catch(() => undefined);
  }

  private tryConnect(): Promise<void> {
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    let connected: { model: ChannelModel; node: number };
    try {
      connected = await this.connectToAnyNode();
    } catch (error) {
      // Not a broker outage: no reconnect brings the package.
      if (error instanceof MissingDependencyError) throw error;
      const failure = this.describeFailure(error);
      this.scheduleReconnect(failure.message);
      throw failure;
    }
    const { model, node } = connected;
    if (this.closed) {
      await model.close().catch(() => undefined);
      throw new BrokerUnavailableError('rabbitmq', 'transport closed while connecting');
    }
    coalesceWrites(model);
    const generation = ++this.generation;
    this.model = model;
    this.attempt = 0;
    this.lastFailure = undefined;
    model.on('error', (error: Error) => this.logger.warn(`RabbitMQ connection error: ${this.endpoint.scrub(error.message)}`));
    model.on('blocked', (reason: string) => this.hooks.onBlocked(true, reason));
    model.on('unblocked', () => this.hooks.onBlocked(false));
    model.once('close', (error?: Error) => this.onClose(model, node, error));
    const version = model.connection.serverProperties.version ?? 'unknown version';
    this.logger.log(`RabbitMQ connected to ${this.endpoint.nodes[node].redacted} (RabbitMQ ${version}, connection ${generation})`);
    await this.hooks.onConnected(model, generation);
  }

  /**
   * Tries the nodes in turn, starting with `firstNode`, and returns the first connection. A login
   * refusal ends the round: every node of one cluster shares its users.
   * @throws the last node's error when none answers.
   */
  private async connectToAnyNode(): Promise<{ model: ChannelModel; node: number }> {
    const { nodes } = this.endpoint;
    let lastError: unknown;
    for (let tried = 0; tried < nodes.length; tried++) {
      const node = (this.firstNode + tried) % nodes.length;
      try {
        return { model: await connect(nodes[node].url, this.endpoint.socketOptions), node };
      } catch (error) {
        if (isAuthenticationFailure(error)) throw error;
        lastError = error;
      }
    }
    throw lastError;
  }

  private onClose(model: ChannelModel, node: number, error?: Error): void {
    if (this.model !== model) return;
    this.model = undefined;
    // The lost node is tried last: it is most likely still down, and each refused try costs a connect.
    this.firstNode = (node + 1) % this.endpoint.nodes.length;
    if (this.closed) return;
    const reason = error ? this.endpoint.scrub(error.message) : 'closed by the broker';
    this.logger.warn(`RabbitMQ connection ${this.generation} lost: ${reason}`);
    this.hooks.onDisconnected(reason);
    this.scheduleReconnect(reason);
  }

  private scheduleReconnect(reason: string): void {
    if (this.closed || this.timer) return;
    const base = Math.min(RABBITMQ_RECONNECT_MAX_DELAY_MS, RABBITMQ_RECONNECT_INITIAL_DELAY_MS * 2 ** this.attempt);
    const delay = Math.round(base * (1 + RABBITMQ_RECONNECT_JITTER * (Math.random() * 2 - 1)));
    this.attempt++;
    if (reason !== this.lastFailure) this.logger.warn(`RabbitMQ unavailable (${reason}); reconnecting with backoff, next attempt in ${delay} ms`);
    this.lastFailure = reason;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tryConnect().catch(() => undefined);
    }, delay);
    this.timer.unref();
  }

  private describeFailure(error: unknown): BrokerUnavailableError {
    if (isAuthenticationFailure(error)) {
      return new BrokerUnavailableError('rabbitmq', `login refused for user '${this.endpoint.username}' at ${this.endpoint.redacted}: check the username, password and vhost permissions`);
    }
    const message = error instanceof Error ? error.message : String(error);
    return new BrokerUnavailableError('rabbitmq', `cannot connect to ${this.endpoint.redacted}: ${this.endpoint.scrub(message)}`);
  }
}

/**
 * amqplib's multiplexer writes every frame (a publish, an ack) to the socket with its own write, one
 * syscall each, from one setImmediate round that drains all its channels. Corking the socket for that
 * round turns those writes into one writev: the same bytes in the same order, far fewer syscalls
 * (they were the largest single cost of a consuming and publishing process). The hook is on amqplib
 * internals (`connection.muxer._readIncoming`, `connection.stream`): when they are not there, writes
 * stay as they were.
 */
export function coalesceWrites(model: ChannelModel): boolean {
  const connection = (model as unknown as { connection?: { stream?: unknown; muxer?: { _readIncoming?: unknown } } }).connection;
  const stream = connection?.stream;
  const muxer = connection?.muxer;
  if (!(stream instanceof Socket) || !muxer || typeof muxer._readIncoming !== 'function') return false;
  const readIncoming = muxer._readIncoming as (this: unknown) => void;
  muxer._readIncoming = function corked(this: unknown): void {
    stream.cork();
    try {
      readIncoming.call(this);
    } finally {
      stream.uncork();
    }
  };
  return true;
}
