/**
 * Keeps a database process the app started running: when it exits without being asked to, it is
 * started again (on the same address, so the driver reconnects by itself) after a back-off that
 * grows while starts keep failing and resets once a run lasted a minute.
 */
import type { ChildProcess } from 'node:child_process';
import { backoff } from '../backoff.js';
import type { Logger } from '../logger.js';

export interface Supervised {
  /** The process running now (a new one after each restart). */
  current(): ChildProcess;
  /** Stops supervising and stops the process (and one a restart was bringing up). */
  stop(): Promise<void>;
}

/** A dead engine comes back after 0.5 s, doubling to 30 s while restarts keep failing. */
const RESTART_BACKOFF = { baseMs: 500, capMs: 30_000 };
const STABLE_MS = 60_000;

export function supervise(opts: {
  engine: string;
  first: ChildProcess;
  restart: () => Promise<ChildProcess>;
  stopChild: (child: ChildProcess) => Promise<void>;
  log: Logger;
}): Supervised {
  const { engine, log } = opts;
  let current = opts.first;
  let startedAt = Date.now();
  let attempt = 0;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let inflight: Promise<void> | undefined;

  const watch = (child: ChildProcess) =>
    child.once('exit', (code, signal) => {
      if (stopping || child !== current) return;
      log.warn(
        { event: 'db.engine.exited', engine, pid: child.pid, code, signal },
        'database process exited; restarting it',
      );
      if (Date.now() - startedAt > STABLE_MS) attempt = 0;
      schedule();
    });

  const schedule = () => {
    const delayMs = backoff(attempt, RESTART_BACKOFF);
    attempt += 1;
    timer = setTimeout(() => {
      inflight = (async () => {
        try {
          const child = await opts.restart();
          if (stopping) return void (await opts.stopChild(child));
          current = child;
          startedAt = Date.now();
          watch(child);
          log.warn({ event: 'db.engine.restarted', engine, pid: child.pid, attempt }, 'database process restarted');
        } catch (err) {
          if (stopping) return;
          log.warn(
            { event: 'db.engine.restart_failed', engine, attempt, err: (err as Error).message.slice(0, 300) },
            'database restart failed; trying again',
          );
          schedule();
        }
      })();
    }, delayMs);
  };

  watch(current);
  return {
    current: () => current,
    stop: async () => {
      stopping = true;
      clearTimeout(timer);
      await inflight;
      await opts.stopChild(current);
    },
  };
}
