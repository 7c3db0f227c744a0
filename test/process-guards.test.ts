/** The process's last-resort handlers: a stray rejection is logged and the bot carries on; an uncaught exception exits. */
import { expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger } from '../src/logger.js';
import { installProcessGuards } from '../src/process-guards.js';

it('when a promise rejection is left unhandled, then it is logged as one line and the process carries on; an uncaught exception exits with 1', () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()),
  });
  const exits: number[] = [];
  const uninstall = installProcessGuards(createLogger('info', sink), (code) => exits.push(code));
  try {
    // Called as Node would, without other listeners (Jest's own) seeing these synthetic events.
    const [onRejection] = process.listeners('unhandledRejection').slice(-1) as [(r: unknown) => void];
    const [onException] = process.listeners('uncaughtException').slice(-1) as [(e: Error) => void];
    onRejection(new Error('database is locked (5) (SQLITE_BUSY)'));
    expect(exits).toEqual([]);
    onException(new Error('boom'));
    expect(exits).toEqual([1]);
  } finally {
    uninstall();
  }
  return new Promise<void>((resolve) =>
    setImmediate(() => {
      expect(lines.map((l) => l.event)).toEqual(['process.unhandled_rejection', 'process.uncaught_exception']);
      expect(lines[0]).toMatchObject({ level: 50, err: 'database is locked (5) (SQLITE_BUSY)' });
      expect(lines[1]).toMatchObject({ level: 60, err: 'boom' });
      resolve();
    }),
  );
});
