import { rmSync } from 'node:fs';
import { readHarnessState, stateFileFor } from './broker-state';
import { removeDockerBroker } from './docker-brokers';
import { terminate } from './local-process';

/** Jest globalTeardown: stops the brokers globalSetup started (by their recorded ids) and removes their dirs. */
export default async function globalTeardown(): Promise<void> {
  const state = readHarnessState();
  if (!state) return;
  const stops = Object.values(state.brokers).map(async (broker) => {
    if (broker?.docker) await removeDockerBroker(broker.docker.containerId);
    const local = broker?.local;
    if (!local) return;
    await terminate(local.pid);
    if (local.epmd) await terminate(local.epmd.pid);
    rmSync(local.baseDir, { recursive: true, force: true });
  });
  const results = await Promise.allSettled(stops);
  rmSync(stateFileFor(state.ownerPid), { force: true });
  const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failures.length > 0) throw new Error(`Stopping test brokers failed: ${failures.map((f) => (f.reason as Error).message).join('; ')}`);
}
