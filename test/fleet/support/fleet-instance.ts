import { ChildApp, type ChildExit } from '../../chaos/support/child-app';
import type { FleetServerConfig } from '../fixtures/fleet-server';

/** ChildApp runs fixtures of test/chaos/fixtures; this one lives with the fleet tests. */
const FLEET_SERVER_FIXTURE = '../../fleet/fixtures/fleet-server.ts';
/** Three instances compile the library at once on a shared machine: start-up is slow. */
const START_TIMEOUT_MS = 90_000;

/** One kanban server process of a fleet, reached over HTTP on its own loopback port. */
export class FleetInstance {
  private readonly child: ChildApp;
  private killed = false;

  constructor(
    readonly name: string,
    config: FleetServerConfig,
  ) {
    this.child = new ChildApp(FLEET_SERVER_FIXTURE, config);
  }

  async listening(): Promise<void> {
    await this.child.waitForLine('listening', START_TIMEOUT_MS);
  }

  get url(): string {
    const [line] = this.child.linesOf('listening');
    if (!line) throw new Error(`instance ${this.name} is not listening yet`);
    return `http://127.0.0.1:${line[1]}`;
  }

  /** False from the moment the test kills it: nothing picks it for new requests after that. */
  get alive(): boolean {
    return !this.killed && this.child.running;
  }

  /** The instance's last log lines. */
  get stderr(): string {
    return this.child.stderr;
  }

  async kill9(): Promise<ChildExit> {
    this.killed = true;
    return this.child.kill9();
  }
}
