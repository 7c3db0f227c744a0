/**
 * An SMTP conversation typed by hand over a socket on loopback, for what nodemailer does not let a
 * test do: hold a session open, send a message in parts with a pause between, leave mid-message.
 */
import net from 'node:net';

export interface SmtpSession {
  /** The first reply of the server (220, or 421 when it is full). */
  greeting: string;
  /** Sends a command line, resolves to the complete reply (all its lines). */
  command(line: string): Promise<string>;
  /** Writes message bytes during DATA (dot-stuffing is the caller's; the message ends with CRLF). */
  write(bytes: Buffer | string): Promise<void>;
  /** Ends DATA (the "." line) and resolves to the server's answer for the message. */
  endData(): Promise<string>;
  /** Sends a whole small message from MAIL FROM to the end of DATA; resolves to the final answer. */
  deliver(o: { from: string; to: string[]; message: Buffer | string }): Promise<string>;
  /** Drops the connection without QUIT. */
  destroy(): void;
  close(): Promise<void>;
}

export async function openSmtpSession(port: number): Promise<SmtpSession> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  let buffer = '';
  let waiting: { resolve: (reply: string) => void; reject: (err: Error) => void } | undefined;
  const replies: string[] = [];
  const deliverReply = () => {
    // A reply is complete at its last line: "250 text", where a continuation line reads "250-text".
    for (;;) {
      const lines = buffer.split('\r\n');
      const end = lines.findIndex((l, i) => i < lines.length - 1 && /^\d{3}( |$)/.test(l));
      if (end < 0) return;
      replies.push(lines.slice(0, end + 1).join('\n'));
      buffer = lines.slice(end + 1).join('\r\n');
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w.resolve(replies.shift()!);
      }
    }
  };
  socket.on('data', (data: Buffer) => {
    buffer += data.toString('latin1');
    deliverReply();
  });
  const failWaiting = (err: Error) => {
    const w = waiting;
    waiting = undefined;
    w?.reject(err);
  };
  socket.on('error', failWaiting);
  socket.on('close', () => failWaiting(new Error('connection closed before a reply')));
  const nextReply = () =>
    new Promise<string>((resolve, reject) => {
      if (replies.length > 0) return resolve(replies.shift()!);
      waiting = { resolve, reject };
    });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const greeting = await nextReply();
  const write = (bytes: Buffer | string) =>
    new Promise<void>((resolve, reject) => socket.write(bytes, (err) => (err ? reject(err) : resolve())));
  const command = async (line: string) => {
    const reply = nextReply();
    await write(`${line}\r\n`);
    return reply;
  };
  const session: SmtpSession = {
    greeting,
    command,
    write,
    async endData() {
      const reply = nextReply();
      await write('.\r\n');
      return reply;
    },
    async deliver(o) {
      for (const line of [`MAIL FROM:<${o.from}>`, ...o.to.map((to) => `RCPT TO:<${to}>`)]) {
        const reply = await command(line);
        if (!reply.startsWith('250')) return reply;
      }
      const data = await command('DATA');
      if (!data.startsWith('354')) return data;
      await write(o.message);
      return session.endData();
    },
    destroy: () => socket.destroy(),
    close: async () => {
      if (!socket.destroyed) await command('QUIT').catch(() => undefined);
      socket.destroy();
    },
  };
  return session;
}
