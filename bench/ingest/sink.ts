/**
 * The floor to compare against: a bare smtp-server on loopback that runs mailparser's
 * simpleParser (default options) on each message before answering 250, and does nothing else.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface SinkStats {
  parsed: number;
  /** Messages simpleParser threw on; they are still answered 250, as the bot keeps them for review. */
  parseErrors: number;
}

export interface Sink {
  port: number;
  stats: SinkStats;
  reset(): void;
  close(): Promise<void>;
}

export async function startSink(opts: { maxBytes: number }): Promise<Sink> {
  const stats: SinkStats = { parsed: 0, parseErrors: 0 };
  const server = new SMTPServer({
    name: 'sink.test',
    banner: 'bench sink',
    size: opts.maxBytes,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        () => {
          stats.parsed += 1;
          callback();
        },
        () => {
          stats.parseErrors += 1;
          // Read the rest of the message before answering, as the client is still sending it.
          if (stream.readableEnded) return callback();
          stream.once('end', () => callback());
          stream.resume();
        },
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.server.address() as AddressInfo).port,
    stats,
    reset: () => {
      stats.parsed = 0;
      stats.parseErrors = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
