/**
 * Memory and disk of a database server process tree, read from /proc (Linux): the launcher and
 * every process below it (postgres and its workers). NaN elsewhere.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

async function children(): Promise<Map<number, number[]>> {
  const byParent = new Map<number, number[]>();
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      byParent.set(ppid, [...(byParent.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  return byParent;
}

/**
 * Resident memory of a process and its descendants, in bytes. Shared pages (postgres's shared
 * buffers, mapped by every worker) are counted once per process by RSS, so this uses PSS
 * (proportional set size) where the kernel offers it.
 */
export async function treeMemory(pid: number): Promise<number> {
  if (process.platform !== 'linux') return Number.NaN;
  const tree = await children();
  let total = 0;
  const visit = async (p: number) => {
    try {
      const rollup = await fs.readFile(`/proc/${p}/smaps_rollup`, 'utf8');
      total += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
    } catch {
      // gone, or not ours to read
    }
    for (const c of tree.get(p) ?? []) await visit(c);
  };
  await visit(pid);
  return total;
}

/** Bytes under a directory (apparent file sizes). */
export async function diskUse(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await diskUse(p);
    else if (entry.isFile()) total += (await fs.stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
