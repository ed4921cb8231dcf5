/** Answers one request addressed to this instance; what it resolves to is sent back. It never rejects. */
export type ControlHandler = (request: Uint8Array) => Promise<Uint8Array>;

/**
 * Instance-to-instance requests over the broker, so a settle reaches the instance holding the
 * delivery (RabbitMQ delivery tags belong to one channel; every transport's lease registry belongs
 * to one process). A transport without one settles every lease locally.
 */
export interface ControlChannel {
  /** Listens as `holder` from now on, across reconnects, until the transport closes. */
  serve(holder: string, handler: ControlHandler): void;

  /**
   * Sends `request` to the instance listening as `holder` and resolves with its answer.
   * @throws RelayUnansweredError when no instance listens as `holder`, the broker is unreachable, or no answer came within `timeoutMs`.
   */
  request(holder: string, request: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
}
