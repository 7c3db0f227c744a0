/**
 * The bot as a separate process (`node --import tsx src/main.ts`), so a test can really kill it
 * (SIGKILL: no clean-up, no last writes). Resolves once it logs `app.started`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface BotProcess {
  child: ChildProcess;
  port: number;
  smtpPort: number;
  /** Kills it with `signal` and resolves once it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<ChildProcess>();

/** For afterAll: kills whatever a test left running. */
export function killBotProcesses(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export function startBotProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<BotProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      PORT: '0',
      HTTP_HOST: '127.0.0.1',
      SMTP_INBOUND_PORT: '0',
      MONGOMS_RUNTIME_DOWNLOAD: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bot did not start in ${timeoutMs / 1000} s`)), timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.includes('"app.started"')) return;
      clearTimeout(timer);
      const started = JSON.parse(line) as { port: number; smtpPort: number };
      resolve({ child, port: started.port, smtpPort: started.smtpPort, kill });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bot exited early with ${code}`));
    });
  });
}
