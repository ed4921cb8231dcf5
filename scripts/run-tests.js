// `npm test`: the whole suite in two Jest runs. Specs that kill, freeze or restart the run's brokers,
// start clusters, network namespaces or RabbitMQ nodes of their own, or measure behaviour under load
// run alone, one file at a time. Every other spec runs beside one other file, each Jest worker on
// brokers of its own (KANBAN_TEST_WORKERS, test/harness), so no file sees another's items or load
// on its broker.
// Arguments (`npm test -- test/nats`) run just those specs, one file at a time.
const { spawnSync } = require('node:child_process');
const { readdirSync, readFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const SPEC_ROOTS = ['apps', 'libs', 'test'];
const SPEC_FILE = /\.(spec|e2e-spec)\.ts$/;
/** Folders whose specs are chaos, cluster or load tests. */
const IN_BAND_FOLDERS = ['test/chaos/', 'test/cluster/', 'test/partition/', 'test/failover/', 'test/fleet/', 'test/scale/'];
/** What a spec elsewhere uses to control brokers, start its own, or load the machine. */
const IN_BAND_MARKERS = ['itControllingBrokers(', 'natsCluster(', 'rabbitmqCluster(', 'NetnsNatsCluster', 'privateRabbitMqNode(', 'kill9(', 'signalGroup('];
/** Specs that measure throughput or the overlap of concurrent steps: a neighbour's load would make them measure the machine. */
const IN_BAND_FILES = ['test/library/stress.e2e-spec.ts', 'test/nats/nats-groups.spec.ts', 'test/nats/nats-groups-scale.spec.ts', 'test/rabbitmq/groups-scale.spec.ts'];
const SIDE_BY_SIDE_WORKERS = 2;

function specFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' ? [] : specFiles(path);
    return SPEC_FILE.test(entry.name) ? [relative(ROOT, path)] : [];
  });
}

function runsInBand(file) {
  if (IN_BAND_FILES.includes(file) || IN_BAND_FOLDERS.some((folder) => file.startsWith(folder))) return true;
  const source = readFileSync(join(ROOT, file), 'utf8');
  return IN_BAND_MARKERS.some((marker) => source.includes(marker));
}

function jest(args, workers = 1) {
  const env = { ...process.env, KANBAN_TEST_WORKERS: String(workers) };
  const result = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), ...args], { cwd: ROOT, stdio: 'inherit', env });
  return result.status ?? 1;
}

/** Jest takes positional arguments as path regexes: a file's own path, escaped, matches just it. */
const exactly = (file) => `${join(ROOT, file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;

const requested = process.argv.slice(2);
if (requested.length > 0) process.exit(jest(['--runInBand', ...requested]));

const files = SPEC_ROOTS.flatMap((dir) => specFiles(join(ROOT, dir)));
const inBand = files.filter(runsInBand);
const sideBySide = files.filter((file) => !inBand.includes(file));
// Both runs go to the end, so one report lists every failure.
const sideBySideStatus = jest([`--maxWorkers=${SIDE_BY_SIDE_WORKERS}`, ...sideBySide.map(exactly)], SIDE_BY_SIDE_WORKERS);
const inBandStatus = jest(['--runInBand', ...inBand.map(exactly)]);
process.exit(sideBySideStatus || inBandStatus);
