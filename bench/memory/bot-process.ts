/**
 * The bot as a process of its own, built and started the way `npm start` does (`tsc`, then
 * `node dist/src/main.js`), so the RSS read from /proc is the bot's alone: not the sender's, not
 * the database's. Any checkout can be started this way, which is how the bench runs an older
 * commit beside this one.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface BotProcess {
  pid: number;
  smtpPort: number;
  /** Warn and error log lines by event, since start. */
  logged: Record<string, number>;
  stop(): Promise<void>;
}

/** Compiles `dir` into its own dist/ (git ignores it), with the tsc of this checkout. */
export async function buildBot(dir: string, tsc: string): Promise<void> {
  await run(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.build.json')], {
    cwd: dir,
    maxBuffer: 16 * 1024 * 1024,
  });
}

export async function startBot(o: {
  dir: string;
  mongodbUri: string;
  env?: Record<string, string>;
}): Promise<BotProcess> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-bench-memory-'));
  const child: ChildProcess = spawn(process.execPath, [path.join(o.dir, 'dist', 'src', 'main.js')], {
    cwd: o.dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.homedir(),
      MONGODB_URI: o.mongodbUri,
      DATA_DIR: dataDir,
      PORT: '0',
      HTTP_HOST: '127.0.0.1',
      SMTP_INBOUND_PORT: '0',
      SMTP_INBOUND_HOST: '127.0.0.1',
      MAIL_DOMAIN: 'example.com',
      LOG_LEVEL: 'info',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logged: Record<string, number> = {};
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    await fs.rm(dataDir, { recursive: true, force: true });
  };
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  try {
    const smtpPort = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the bot did not start within 120 s')), 120_000);
      child.once('exit', (code) => reject(new Error(`the bot exited during start-up (code ${code})`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let entry: { level?: number; event?: string; smtpPort?: number };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          return;
        }
        if ((entry.level ?? 0) >= 40) {
          const key = `${(entry.level ?? 0) >= 50 ? 'error' : 'warn'} ${entry.event ?? '?'}`;
          logged[key] = (logged[key] ?? 0) + 1;
          process.stderr.write(`${line}\n`);
        }
        if (entry.event === 'app.started' && typeof entry.smtpPort === 'number') {
          clearTimeout(timer);
          resolve(entry.smtpPort);
        }
      });
    });
    return { pid: child.pid!, smtpPort, logged, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface RssWindow {
  /** Highest VmRSS sample in the window, bytes. */
  sampledPeak: number;
  /** The kernel's high-water mark (VmHWM) over the window, bytes: catches what sampling misses. */
  kernelPeak: number;
  samples: number;
}

/** Samples a process's RSS from /proc every `intervalMs`; `window()` resets the peaks. */
export function rssOf(pid: number, intervalMs: number) {
  const status = async () => {
    const text = await fs.readFile(`/proc/${pid}/status`, 'utf8');
    const kB = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN) * 1024;
    return { rss: kB('VmRSS'), hwm: kB('VmHWM') };
  };
  let peak = 0;
  let samples = 0;
  let recent: number[] = [];
  const timer = setInterval(() => {
    void status().then(
      ({ rss }) => {
        samples += 1;
        peak = Math.max(peak, rss);
        recent.push(rss);
        if (recent.length > 200) recent = recent.slice(-100);
      },
      () => undefined,
    );
  }, intervalMs);
  return {
    /** Median of the last `n` samples: the resting RSS. */
    resting(n: number): number {
      const last = [...recent.slice(-n)].sort((a, b) => a - b);
      return last[Math.floor(last.length / 2)] ?? Number.NaN;
    },
    /** Starts a new window: sampled peak and the kernel's high-water mark both start from now. */
    async reset(): Promise<void> {
      peak = 0;
      samples = 0;
      // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+).
      await fs.writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => undefined);
    },
    async window(): Promise<RssWindow> {
      const { rss, hwm } = await status();
      return { sampledPeak: Math.max(peak, rss), kernelPeak: hwm, samples };
    },
    stop: () => clearInterval(timer),
  };
}
