/**
 * Starts the FerretDB launcher in tools/ferretdb (FerretDB 1.24 embedded, on PostgreSQL or SQLite),
 * building it with the machine's Go on first use, and keeps it running: a launcher that dies is
 * started again on the same port (see supervisor.ts). On PostgreSQL the launcher itself runs and
 * restarts postgres.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.js';
import { postgresBinDir } from './postgres.js';
import { supervise } from './supervisor.js';

const execFileAsync = promisify(execFile);

/** tools/ferretdb, found from this file whether it runs from src/ (tests) or dist/src/ (npm start). */
export async function launcherDir(): Promise<string> {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i += 1) {
    const candidate = path.join(dir, 'tools', 'ferretdb');
    if (await exists(path.join(candidate, 'go.mod'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('tools/ferretdb not found next to the application');
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

async function newestSource(dir: string): Promise<number> {
  const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.go') || n === 'go.mod' || n === 'go.sum');
  const stats = await Promise.all(names.map((n) => fs.stat(path.join(dir, n))));
  return Math.max(...stats.map((s) => s.mtimeMs));
}

/** Builds bin/ferretdb unless it is newer than its sources. Safe with concurrent callers. */
export async function ensureFerretBinary(log: Logger): Promise<string> {
  const dir = await launcherDir();
  const binary = path.join(dir, 'bin', 'ferretdb');
  try {
    const built = await fs.stat(binary);
    if (built.mtimeMs >= (await newestSource(dir))) return binary;
  } catch {
    // not built yet
  }
  log.info({ event: 'ferretdb.build' }, 'building the FerretDB launcher with Go (first run only)');
  const started = Date.now();
  // Build to a private name and rename, so a concurrent start never runs a half-written file.
  const tmp = `${binary}.${process.pid}.${Date.now()}`;
  try {
    await execFileAsync('go', ['build', '-buildvcs=false', '-o', tmp, '.'], {
      cwd: dir,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 15 * 60 * 1000,
    });
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim().split('\n').slice(-5).join(' | ') ?? String(err);
    throw new Error(`building tools/ferretdb failed (is Go installed?): ${detail}`, { cause: err });
  }
  await fs.rename(tmp, binary);
  log.info({ event: 'ferretdb.built', ms: Date.now() - started }, 'FerretDB launcher built');
  return binary;
}

export type FerretBackend = 'postgresql' | 'sqlite';

export interface FerretHandle {
  uri: string;
  /** The launcher's process id now (it changes when the launcher is restarted). */
  pid(): number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts FerretDB with its data under dataDir: the SQLite files, or the PostgreSQL cluster (which
 * the launcher initialises on first start). `listen` port 0 picks a free port; restarts reuse it.
 */
export async function startFerret(
  dataDir: string,
  log: Logger,
  listen = '127.0.0.1:0',
  opts: { backend?: FerretBackend } = {},
): Promise<FerretHandle> {
  const backend = opts.backend ?? 'sqlite';
  const binary = await ensureFerretBinary(log);
  const args = ['-backend', backend, '-data', dataDir, '-exit-on-stdin-eof'];
  if (backend === 'postgresql') args.push('-postgres-bin', await postgresBinDir(log));
  await fs.mkdir(dataDir, { recursive: true });
  const engine = `ferretdb-${backend === 'postgresql' ? 'postgres' : 'sqlite'}`;
  const first = await launch(binary, [...args, '-listen', listen], log);
  const address = new URL(first.uri).host;
  const supervised = supervise({
    engine,
    first: first.child,
    restart: async () => {
      const again = await launch(binary, [...args, '-listen', address], log);
      if (again.uri !== first.uri) {
        await stopChild(again.child);
        throw new Error(`the restarted launcher listens on ${again.uri}, not ${first.uri}`);
      }
      return again.child;
    },
    stopChild,
    log,
  });
  return { uri: first.uri, pid: () => supervised.current().pid, stop: () => supervised.stop() };
}

async function launch(binary: string, args: string[], log: Logger): Promise<{ child: ChildProcess; uri: string }> {
  // stdin stays open as a lifeline: if this process dies, the launcher sees EOF and exits.
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderrTail: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > 20) stderrTail.shift();
    relayLauncherLog(line, log);
  });
  const uri = await readyLine(child, stderrTail);
  return { child, uri };
}

/**
 * The launcher's own records (about postgres: initialised, restarted, a FATAL line) go to the
 * app's log. FerretDB's records stay out: they can quote documents.
 */
function relayLauncherLog(line: string, log: Logger): void {
  if (!line.startsWith('{')) return;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  if (record.src !== 'launcher') return;
  const { time: _time, level, msg, src: _src, ...fields } = record;
  const entry = { event: 'db.launcher', ...fields };
  const text = String(msg ?? '');
  if (level === 'ERROR') log.error(entry, text);
  else if (level === 'WARN') log.warn(entry, text);
  else log.info(entry, text);
}

function readyLine(child: ChildProcess, stderrTail: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    // A first start on PostgreSQL includes initdb; a loaded machine can take a while.
    const timer = setTimeout(() => fail(new Error('FerretDB did not start within 120 s')), 120_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}: ${stderrTail.join(' | ').trim().slice(-500)}`));
    };
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`FerretDB exited with code ${code} before it was ready`)));
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      const match = /^READY (mongodb:\/\/\S+)$/.exec(line.trim());
      if (!match?.[1]) return fail(new Error(`unexpected FerretDB output: ${line.slice(0, 200)}`));
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.removeListener('error', fail);
      resolve(match[1]);
    });
  });
}

/** SIGTERM, then SIGKILL: the launcher escalates with postgres itself, so it gets time for that. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
