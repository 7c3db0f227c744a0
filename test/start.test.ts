/** `npm start` with no environment: boots on the embedded database, says Slack is off, is ready. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from '@jest/globals';

let dataDir: string;
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

/** Starts the bot as a process with only DATA_DIR and a free port; resolves with its log lines once started. */
function boot(): Promise<{ child: ChildProcess; lines: Record<string, unknown>[]; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      DATA_DIR: dataDir,
      PORT: '0',
      HTTP_HOST: '127.0.0.1',
      SMTP_INBOUND_PORT: '0',
      MONGOMS_RUNTIME_DOWNLOAD: process.env.MONGOMS_RUNTIME_DOWNLOAD ?? 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 90 s: ${JSON.stringify(lines)}`)), 90_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        if (entry.event === 'app.started') {
          clearTimeout(timer);
          resolve({ child, lines, port: entry.port as number });
        }
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${JSON.stringify(lines)}`)));
  });
}

function stop(child: ChildProcess): Promise<number | string | null> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal));
    child.kill('SIGTERM');
  });
}

describe('starting the bot with no configuration', () => {
  it('when started twice on one DATA_DIR, then it logs engine, port and Slack off, is ready, stops cleanly and keeps its engine', async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-start-'));
    const first = await boot();
    const started = first.lines.find((l) => l.event === 'app.started')!;
    expect(['mongodb', 'ferretdb-postgres', 'ferretdb-sqlite']).toContain(started.engine);
    expect(first.lines.some((l) => l.event === 'slack.off')).toBe(true);
    expect(first.lines.some((l) => l.event === 'db.connected')).toBe(true);
    expect((await fetch(`http://127.0.0.1:${first.port}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${first.port}/slack/events`, { method: 'POST' })).status).toBe(503);
    const firstExit = await stop(first.child);
    expect({ exit: firstExit, tail: firstExit === 0 ? [] : first.lines.slice(-3) }).toEqual({ exit: 0, tail: [] });

    const second = await boot();
    expect(second.lines.find((l) => l.event === 'app.started')!.engine).toBe(started.engine);
    // The engine that holds the data is reused at once, without trying another first.
    expect(second.lines.some((l) => l.event === 'db.embedded.mongod_unavailable')).toBe(false);
    expect(await stop(second.child)).toBe(0);
  }, 180_000);
});
