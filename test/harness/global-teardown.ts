import { rmSync } from 'node:fs';
import { allBrokerSets, readHarnessState, stateFileFor } from './broker-state';
import { removeDockerBroker } from './docker-brokers';
import { stopCluster } from './local-cluster';
import { terminate } from './local-process';

/** Time Jest gets to exit by itself once the brokers are stopped. */
const EXIT_GRACE_MS = 30_000;

/**
 * A test that leaves a timer, socket or loop running keeps Jest's process alive after the run, and
 * CI then waits for its own time limit. Name what is still open and fail the run instead.
 */
function failIfStillRunning(): void {
  setTimeout(() => {
    process.stderr.write(
      `[test harness] Jest has not exited ${EXIT_GRACE_MS} ms after the last test: something a test started is still running ` +
        `(open resources: ${process.getActiveResourcesInfo().join(', ')}). Failing the run.\n`,
    );
    process.exit(1);
  }, EXIT_GRACE_MS).unref();
}

/** Jest globalTeardown: stops the brokers globalSetup started and the clusters specs started (by their recorded ids) and removes their dirs. */
export default async function globalTeardown(): Promise<void> {
  failIfStillRunning();
  const state = readHarnessState();
  if (!state) return;
  const stops = allBrokerSets(state)
    .flatMap((set) => Object.values(set))
    .map(async (broker) => {
      if (broker?.docker) await removeDockerBroker(broker.docker.containerId);
      const local = broker?.local;
      if (!local) return;
      await terminate(local.pid);
      if (local.epmd) await terminate(local.epmd.pid);
      rmSync(local.baseDir, { recursive: true, force: true });
    });
  const clusterStops = Object.values(state.clusters ?? {}).map((cluster) => (cluster ? stopCluster(cluster) : Promise.resolve()));
  const results = await Promise.allSettled([...stops, ...clusterStops]);
  rmSync(stateFileFor(state.ownerPid), { force: true });
  const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failures.length > 0) throw new Error(`Stopping test brokers failed: ${failures.map((f) => (f.reason as Error).message).join('; ')}`);
}
