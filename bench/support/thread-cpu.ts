// CPU time of a child process per thread group, from /proc/<pid>/task/*/stat (Linux): the embedded engine
// names its threads (ThreadPool: query pipelines; MergeMutate: background merges; ...), Node's main thread is
// the process id, and every other unnamed thread ("node": libuv's pool, which also runs the engine's calls,
// and V8's helpers) is one group. Elsewhere: an empty map.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

export function threadCpuSeconds(pid: number): Map<string, number> {
  const groups = new Map<string, number>();
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return groups;
  }
  for (const task of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const name = task === String(pid) ? 'main (JS)' : comm.replace(/\d+$/, '');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime: fields 14 and 15 of stat, 12 and 13 after the command.
      groups.set(name, (groups.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return groups;
}

/** CPU µs per span of each thread group between two samples, largest first. */
export function cpuMicrosPerSpan(before: Map<string, number>, after: Map<string, number>, spans: number): Record<string, number> {
  const out = [...after]
    .map(([name, s]) => [name, ((s - (before.get(name) ?? 0)) * 1e6) / spans] as const)
    .filter(([, us]) => us >= 0.05)
    .sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(out.map(([name, us]) => [name, Math.round(us * 10) / 10]));
}
