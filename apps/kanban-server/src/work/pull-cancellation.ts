import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';

/**
 * Ends long-polling pulls at shutdown, so a waiting `POST /work/pull` answers at once (with what it
 * has) instead of holding the HTTP server open for up to its waitMs.
 */
@Injectable()
export class PullCancellation implements BeforeApplicationShutdown {
  private readonly shutdown = new AbortController();

  /** A signal that fires when the client goes away or the server shuts down. */
  signalFor(request: AbortSignal): AbortSignal {
    return AbortSignal.any([request, this.shutdown.signal]);
  }

  beforeApplicationShutdown(): void {
    this.shutdown.abort();
  }
}
