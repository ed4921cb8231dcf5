import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

/**
 * Prints where a `node --cpu-prof` profile spent its time: self time per function and per source
 * (a library file, or an npm package as a whole), and inclusive time of the library's functions.
 *   node -r ./bench/register.js bench/profile/summarize-cpu-profile.ts <file.cpuprofile> [top]
 * The library is libs/kanban/src, or the copy BENCH_KANBAN_SRC names (as when the profile was taken).
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const ROOT = relative('/', process.cwd());
const LIBRARY = relative(process.cwd(), process.env.BENCH_KANBAN_SRC ?? 'libs/kanban/src');

function source(url: string): string {
  const path = url.replace(/^file:\/\//, '').replace(`/${ROOT}/`, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1];
  if (path.startsWith('node:') || path === '') return path || '(native)';
  return path;
}

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: summarize-cpu-profile.ts <file.cpuprofile> [top]');
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const selfByNode = new Map<number, number>();
  profile.samples.forEach((id, i) => selfByNode.set(id, (selfByNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfByNode.values()].reduce((a, b) => a + b, 0);
  const isIdle = (id: number) => byId.get(id)!.callFrame.functionName === '(idle)';
  const idle = [...selfByNode].filter(([id]) => isIdle(id)).reduce((a, [, t]) => a + t, 0);

  const selfByFunction = new Map<string, number>();
  const selfBySource = new Map<string, number>();
  const inclusiveLibrary = new Map<string, number>();
  for (const [id, time] of selfByNode) {
    if (isIdle(id)) continue;
    const frame = byId.get(id)!.callFrame;
    const name = `${frame.functionName || '(anonymous)'}  ${source(frame.url)}:${frame.lineNumber + 1}`;
    selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + time);
    selfBySource.set(source(frame.url), (selfBySource.get(source(frame.url)) ?? 0) + time);
    // Inclusive time of each library function on the stack, counted once per sample.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      if (!f.url.includes(LIBRARY)) continue;
      const key = `${f.functionName || '(anonymous)'}  ${source(f.url)}:${f.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusiveLibrary.set(key, (inclusiveLibrary.get(key) ?? 0) + time);
    }
  }
  const busy = total - idle;
  const print = (title: string, entries: Map<string, number>, base: number) => {
    process.stdout.write(`\n${title}\n`);
    for (const [key, time] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`${((100 * time) / base).toFixed(1).padStart(6)}%  ${(time / 1_000).toFixed(0).padStart(7)} ms  ${key}\n`);
    }
  };
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (percentages of busy time)\n`);
  print('Self time by source', selfBySource, busy);
  print('Self time by function', selfByFunction, busy);
  print('Inclusive time of libs/kanban functions', inclusiveLibrary, busy);
}

main();
