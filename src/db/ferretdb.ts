/**
 * Starts the FerretDB launcher in tools/ferretdb (FerretDB 1.24 embedded, SQLite backend), building
 * it with the machine's Go on first use. This is the offline fallback when no mongod can be had.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.js';

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
  const names = ['main.go', 'go.mod', 'go.sum'];
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

export interface FerretHandle {
  uri: string;
  stop(): Promise<void>;
}

export async function startFerret(dataDir: string, log: Logger, listen = '127.0.0.1:0'): Promise<FerretHandle> {
  const binary = await ensureFerretBinary(log);
  await fs.mkdir(dataDir, { recursive: true });
  // stdin stays open as a lifeline: if this process dies, FerretDB sees EOF and exits.
  const child = spawn(binary, ['-data', dataDir, '-listen', listen, '-exit-on-stdin-eof'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderrTail: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderrTail.push(chunk);
    if (stderrTail.length > 20) stderrTail.shift();
  });
  const uri = await readyLine(child, stderrTail);
  return {
    uri,
    stop: () => stopChild(child),
  };
}

function readyLine(child: ChildProcess, stderrTail: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('FerretDB did not start within 60 s')), 60_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}: ${stderrTail.join('').trim().slice(-500)}`));
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

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
