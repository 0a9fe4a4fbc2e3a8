// What /proc (Linux) says of the processes of `pnpm bench:app`: CPU time, system calls,
// RSS, and the machine's busy time split by process name. Each reader answers NaN (or
// nothing) where /proc cannot be read, so the benchmark still runs elsewhere.
import { readdirSync, readFileSync } from 'node:fs';

/** A /proc/<pid>/stat line's process name (`comm`, which may hold spaces and parentheses). */
function statName(stat: string): string {
  return stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
}

/** A /proc/<pid>/stat line's CPU seconds, user + system (`utime` and `stime`, in 1/100 s). */
function statCpuSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds (user + system) of a process so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  try {
    return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}

/**
 * Read and write system calls of a process so far (`syscr`, `syscw` of /proc/<pid>/io,
 * Linux): every socket read and write counts, however many bytes. On this machine a loopback
 * write costs more CPU than any function of ours, and these counts, unlike CPU time, do
 * not move with the machine's load: what batching saves shows here exactly.
 */
export function syscalls(pid: number): { reads: number; writes: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return { reads: Number(/syscr: (\d+)/.exec(io)?.[1]), writes: Number(/syscw: (\d+)/.exec(io)?.[1]) };
  } catch {
    return { reads: Number.NaN, writes: Number.NaN };
  }
}

/**
 * Busy CPU seconds of the whole machine so far (every process: the side measured, the load
 * generator, PostgreSQL, Redis), from /proc/stat (Linux): on 2 cores the sides compete for
 * the machine, not only for their own process's core.
 */
export function machineBusySeconds(): number {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size in MiB, from /proc (Linux). */
export function rssMiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? Number.NaN : Number(match[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU seconds (user + system) so far of every process whose name is one of `names` (the
 * `comm` of /proc/<pid>/stat: `postgres` for every PostgreSQL backend, `redis-server`), by
 * name. A process that exits between two readings takes its time with it: PostgreSQL's
 * backends of the pools stay for the whole run (the benchmark prints how many connections
 * were opened while measured).
 */
export function cpuSecondsByName(names: readonly string[]): Map<string, number> {
  const totals = new Map<string, number>(names.map((name) => [name, 0]));
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return totals;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const name = statName(stat);
    const total = totals.get(name);
    if (total !== undefined) totals.set(name, total + statCpuSeconds(stat));
  }
  return totals;
}
