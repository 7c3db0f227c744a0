/**
 * The outbound relay the bot sends its email to (SMTP_URL): accepts everything and notes when a
 * message containing a marker arrived. It does not parse, so it costs the shared CPU little.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** What a probe puts in its email's body, e.g. `PROBE-lanes-7`. */
export const MARKER = /PROBE-[A-Za-z0-9-]+/g;

export interface Relay {
  url: string;
  received(): number;
  /** Resolves with Date.now() at the arrival of the first message containing `marker` (a MARKER). */
  arrivalOf(marker: string, timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}

export async function startRelay(): Promise<Relay> {
  let count = 0;
  const arrived = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const at = Date.now();
        count += 1;
        for (const marker of Buffer.concat(chunks).toString('latin1').match(MARKER) ?? []) {
          if (arrived.has(marker)) continue;
          arrived.set(marker, at);
          waiting.get(marker)?.(at);
          waiting.delete(marker);
        }
        callback(null, 'Queued');
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received: () => count,
    arrivalOf(marker, timeoutMs) {
      const known = arrived.get(marker);
      if (known !== undefined) return Promise.resolve(known);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(marker);
          reject(new Error(`no email with ${marker} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(marker, (at) => {
          clearTimeout(timer);
          resolve(at);
        });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
