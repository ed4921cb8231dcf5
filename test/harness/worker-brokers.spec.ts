import { brokersOfThisWorker, type BrokerState, type HarnessState } from './broker-state';

const nats = (port: number): BrokerState => ({ kind: 'nats', source: 'local', url: `nats://127.0.0.1:${port}`, port });

describe("a Jest worker's brokers", () => {
  const workerId = process.env.JEST_WORKER_ID;
  const state: HarnessState = { startedAt: '', ownerPid: 1, brokers: { nats: nats(4001) }, otherWorkers: [{ nats: nats(4002) }], unavailable: {} };

  afterEach(() => {
    process.env.JEST_WORKER_ID = workerId;
  });

  it.each([
    ['1', 4001],
    ['2', 4002],
  ])('worker %s of a run with a set per worker uses its own set', (worker, port) => {
    // Arrange
    process.env.JEST_WORKER_ID = worker;

    // Act
    const brokers = brokersOfThisWorker(state);

    // Assert
    expect(brokers.nats?.port).toBe(port);
  });

  it("a worker beyond the run's sets uses worker 1's, as a run with one set does", () => {
    // Arrange
    process.env.JEST_WORKER_ID = '3';

    // Act
    const brokers = brokersOfThisWorker(state);

    // Assert
    expect(brokers.nats?.port).toBe(4001);
  });
});
