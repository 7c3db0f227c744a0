/**
 * A real Dovecot IMAP server for tests: one throwaway instance per call, run in the foreground as
 * a child of the test process, with every file it writes inside its own temp directory. The
 * system Dovecot service is never used. Needs Debian's dovecot-imapd (see tools/dovecot/README.md).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { access, chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';

export interface DovecotUser {
  user: string;
  password: string;
}

export interface Dovecot {
  host: '127.0.0.1';
  port: number;
  /** imap://user:pass@127.0.0.1:port */
  url(user: string): string;
  /** Appends a raw RFC 822 message and returns its UID. */
  appendMessage(user: string, raw: string | Buffer, mailbox?: string, flags?: string[]): Promise<number>;
  listFlags(user: string, mailbox?: string): Promise<{ uid: number; flags: string[] }[]>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 15_000;
const KILL_GRACE_MS = 3_000;
const DEFAULT_USERS: DovecotUser[] = ['billing', 'sales', 'support', 'selfserve'].map((user) => ({
  user,
  password: 'secret',
}));
// Dovecot refuses uid 0 for mail access, so the test mailboxes belong to nobody:nogroup.
const NOBODY = 65534;
const INSTALL_HINT = 'install it with: apt-get update && apt-get install -y dovecot-imapd';

// Dovecot lives in sbin, which a non-root PATH often lacks.
async function findDovecot(): Promise<string> {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = path.join(dir, 'dovecot');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next directory
    }
  }
  throw new Error(`dovecot binary not found; ${INSTALL_HINT}`);
}

// The generated configuration uses 2.3 setting names; 2.4 renamed and reshaped many of them.
async function checkVersion(binary: string): Promise<void> {
  const { stdout } = await promisify(execFile)(binary, ['--version']);
  const version = stdout.trim().split(/\s+/)[0] ?? '';
  if (!version.startsWith('2.3.')) {
    throw new Error(`test/support/dovecot.ts writes Dovecot 2.3 configuration, but found Dovecot ${version}`);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function configText(dir: string, port: number): string {
  return `# Throwaway test instance, written by test/support/dovecot.ts
protocols = imap
listen = ${HOST}
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# A refused login would otherwise cost every failure-path test 2 s.
auth_failure_delay = 0
# Login and auth processes keep Debian's defaults: they run as the package's dovenull and dovecot.
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = passwd-file
  args = username_format=%u ${dir}/users
}
service imap-login {
  inet_listener imap {
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
`;
}

function passwdFile(dir: string, users: DovecotUser[]): string {
  return users
    .map(({ user, password }) => {
      if (/[:\n\r]/.test(user + password)) throw new Error(`unusable test user or password: ${user}`);
      return `${user}:{PLAIN}${password}:${NOBODY}:${NOBODY}::${dir}/mail/${user}\n`;
    })
    .join('');
}

async function tail(file: string, lines = 30): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(-lines).join('\n').trim();
  } catch {
    return '';
  }
}

/**
 * Resolves once a fresh connection gets Dovecot's real greeting. Until its auth process is up,
 * Dovecot first sends "* OK Waiting for authentication process to respond..", which is not ready.
 */
function probeGreeting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, HOST);
    let buffered = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      const lines = buffered.split('\r\n');
      buffered = lines.pop() ?? '';
      if (lines.some((line) => line.startsWith('* OK') && !/Waiting for authentication/i.test(line))) {
        done(true);
      }
    });
  });
}

async function waitUntilReady(child: ChildProcess, port: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`dovecot exited early (${child.exitCode ?? child.signalCode})`);
    }
    if (await probeGreeting(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`dovecot did not greet on ${HOST}:${port} within ${READY_TIMEOUT_MS} ms`);
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function kill(child: ChildProcess): Promise<void> {
  const gone = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
  await gone;
  clearTimeout(timer);
}

// A test process that dies without calling stop() must not leave a Dovecot behind.
const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

async function launch(binary: string, dir: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const conf = path.join(dir, 'dovecot.conf');
  await writeFile(conf, configText(dir, port));
  const child = spawn(binary, ['-F', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  // Dovecot reports configuration errors on stderr before its log file is open.
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  try {
    await waitUntilReady(child, port);
    return { child, port };
  } catch (err) {
    await kill(child);
    const log = [stderr.trim(), await tail(path.join(dir, 'dovecot.log'))].filter(Boolean).join('\n');
    throw new Error(`${(err as Error).message}\n--- dovecot output ---\n${log || '(empty)'}`, { cause: err });
  }
}

export async function startDovecot(opts: { users?: DovecotUser[] } = {}): Promise<Dovecot> {
  const binary = await findDovecot();
  await checkVersion(binary);
  // Dovecot only switches to its package users and to the mail owner when started as root.
  if (process.getuid?.() !== 0) throw new Error('startDovecot must run as root (tests do, here and in CI)');
  const users = opts.users ?? DEFAULT_USERS;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dovecot-test-'));
  let child: ChildProcess;
  let port: number;
  try {
    // mkdtemp's 0700 would lock out the auth (dovecot) and login (dovenull) processes.
    await chmod(dir, 0o755);
    await mkdir(path.join(dir, 'mail'));
    await chown(path.join(dir, 'mail'), NOBODY, NOBODY);
    // Read by the unprivileged auth process; the passwords are throwaway test values.
    await writeFile(path.join(dir, 'users'), passwdFile(dir, users), { mode: 0o644 });
    // The free port can be taken by someone else before Dovecot binds it; then pick another.
    for (let attempt = 1; ; attempt++) {
      try {
        ({ child, port } = await launch(binary, dir));
        break;
      } catch (err) {
        if (attempt >= 3 || !/Address already in use/.test((err as Error).message)) throw err;
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  const passwordOf = (user: string): string => {
    const found = users.find((u) => u.user === user);
    if (!found) throw new Error(`no such test user: ${user}`);
    return found.password;
  };

  const withClient = async <T>(user: string, fn: (client: ImapFlow) => Promise<T>): Promise<T> => {
    const client = new ImapFlow({
      host: HOST,
      port,
      secure: false,
      auth: { user, pass: passwordOf(user) },
      logger: false,
    });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.logout().catch(() => client.close());
    }
  };

  return {
    host: HOST,
    port,
    url: (user) => `imap://${encodeURIComponent(user)}:${encodeURIComponent(passwordOf(user))}@${HOST}:${port}`,

    appendMessage: (user, raw, mailbox = 'INBOX', flags) =>
      withClient(user, async (client) => {
        const result = await client.append(mailbox, raw, flags);
        if (!result || result.uid === undefined) throw new Error(`APPEND to ${mailbox} returned no UID`);
        return result.uid;
      }),

    listFlags: (user, mailbox = 'INBOX') =>
      withClient(user, async (client) => {
        const lock = await client.getMailboxLock(mailbox, { readOnly: true });
        try {
          const exists = client.mailbox ? client.mailbox.exists : 0;
          if (exists === 0) return [];
          const out: { uid: number; flags: string[] }[] = [];
          for await (const msg of client.fetch('1:*', { uid: true, flags: true })) {
            // \Recent belongs to whichever session saw the message first, not to the message.
            const flags = [...(msg.flags ?? [])].filter((f) => f !== '\\Recent');
            out.push({ uid: msg.uid, flags: flags.sort() });
          }
          return out.sort((a, b) => a.uid - b.uid);
        } finally {
          lock.release();
        }
      }),

    stop: async () => {
      await kill(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
