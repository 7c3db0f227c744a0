/**
 * A FerretDB server of a test's own, for tests that stop or kill it: on the run's default backend
 * (PostgreSQL), or SQLite when the run is on FerretDB's SQLite engine.
 */
import fs from 'node:fs/promises';
import type { FerretBackend } from '../../src/db/ferretdb.js';

export function ownEngineBackend(): FerretBackend {
  return process.env.TEST_DB_ENGINE === 'ferretdb-sqlite' ? 'sqlite' : 'postgresql';
}

/** The EMBEDDED_DB value that starts that backend in an app of its own. */
export function ownEngineName(): 'ferretdb-postgres' | 'ferretdb-sqlite' {
  return ownEngineBackend() === 'sqlite' ? 'ferretdb-sqlite' : 'ferretdb-postgres';
}

/** The postmaster's pid of the cluster an app runs under `dataDir` (DATA_DIR), once it has one. */
export async function postmasterPid(dataDir: string): Promise<number | undefined> {
  try {
    const text = await fs.readFile(`${dataDir}/db/postgres/pgdata/postmaster.pid`, 'utf8');
    const pid = Number(text.split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process runs (a zombie left for a parent that never reaps it does not count). */
export async function running(pid: number): Promise<boolean> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
