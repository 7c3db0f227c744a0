/**
 * CPU time per phase: this process (every thread) from process.cpuUsage(), and its child
 * processes (the embedded mongod or FerretDB) from /proc on Linux. Elsewhere the children's time
 * is unknown (NaN).
 */
import fs from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat times: 100 on every Linux build node runs on. */
const TICKS = 100;

async function childrenTicks(): Promise<number> {
  if (process.platform !== 'linux') return Number.NaN;
  let total = 0;
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid) continue;
      total += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // the process ended while we looked
    }
  }
  return total;
}

export interface CpuMark {
  selfMicros: number;
  childTicks: number;
}

export async function cpuMark(): Promise<CpuMark> {
  const u = process.cpuUsage();
  return { selfMicros: u.user + u.system, childTicks: await childrenTicks() };
}

/** Seconds of CPU between two marks: this process, and its child processes (the database). */
export function cpuSeconds(from: CpuMark, to: CpuMark): { self: number; database: number } {
  return { self: (to.selfMicros - from.selfMicros) / 1e6, database: (to.childTicks - from.childTicks) / TICKS };
}
