// `npm test`: the whole suite in two Jest runs. Specs that kill, freeze or restart the run's brokers,
// start clusters, network namespaces or RabbitMQ nodes of their own, or measure behaviour under load
// run alone, one file at a time. Every other spec runs beside one other file, each Jest worker on
// brokers of its own (KANBAN_TEST_WORKERS, test/harness), so no file sees another's items or load
// on its broker.
// Arguments (`npm test -- test/nats`) run just those specs, one file at a time.
const { spawnSync } = require('node:child_process');
const { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
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
/** Jest config that runs just the files listed in the JSON file KANBAN_TEST_FILE_LIST names. */
const FILE_LIST_CONFIG = join(__dirname, 'jest-file-list.config.js');

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

function jest(args, workers = 1, extraEnv = {}) {
  const env = { ...process.env, ...extraEnv, KANBAN_TEST_WORKERS: String(workers) };
  const result = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), ...args], { cwd: ROOT, stdio: 'inherit', env });
  return result.status ?? 1;
}

/** Runs exactly `files`, listed in a JSON file the Jest config reads, so Jest's summary does not echo every path. */
function jestOnFiles(files, args, workers, listDir) {
  const listPath = join(listDir, 'spec-files.json');
  writeFileSync(listPath, JSON.stringify(files));
  return jest(['--config', FILE_LIST_CONFIG, ...args], workers, { KANBAN_TEST_FILE_LIST: listPath });
}

const requested = process.argv.slice(2);
if (requested.length > 0) process.exit(jest(['--runInBand', ...requested]));

const files = SPEC_ROOTS.flatMap((dir) => specFiles(join(ROOT, dir)));
const inBand = files.filter(runsInBand);
const sideBySide = files.filter((file) => !inBand.includes(file));
const listDir = mkdtempSync(join(tmpdir(), 'kanban-test-files-'));
try {
  // Both runs go to the end, so one report lists every failure.
  const sideBySideStatus = jestOnFiles(sideBySide, [`--maxWorkers=${SIDE_BY_SIDE_WORKERS}`], SIDE_BY_SIDE_WORKERS, listDir);
  const inBandStatus = jestOnFiles(inBand, ['--runInBand'], 1, listDir);
  process.exitCode = sideBySideStatus || inBandStatus;
} finally {
  rmSync(listDir, { recursive: true, force: true });
}
