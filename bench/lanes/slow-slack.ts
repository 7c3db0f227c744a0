/**
 * Issue 9, item 5 as a bench: for the first minute Slack answers posts only after 12 s, while the
 * client gives up at 10 s. Ten emails arrive and each new ticket is claimed at once (a card
 * update that must reach the card). Counts the top-level posts Slack ends up holding and how many
 * of them the updates reached; every extra one is a duplicate card with live buttons.
 */
import nodemailer from 'nodemailer';
import type { StartOptions } from '../../src/app.js';
import type { Logger } from '../../src/logger.js';
import { startBot, USERS } from './bot.js';

export interface SlowSlackResult {
  behaviour: string;
  emails: number;
  tickets: number;
  posts: number;
  /** Posts beyond one per ticket. */
  duplicates: number;
  /** Posts the card updates (the claims) reached; every other copy keeps whatever it showed when posted. */
  updated: number;
  settled: boolean;
  settledSeconds: number;
}

async function sendEmails(port: number, count: number): Promise<string[]> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: 1,
  });
  try {
    const subjects = Array.from({ length: count }, (_, i) => `Slow Slack request ${i + 1}`);
    for (const [i, subject] of subjects.entries()) {
      await transport.sendMail({
        from: `slow${i}@customer.test`,
        to: 'support@example.com',
        subject,
        text: 'Please look at our invoice.',
        messageId: `<slow.${i}.${Date.now()}@customer.test>`,
      });
    }
    return subjects;
  } finally {
    transport.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function slowSlackRun(o: {
  behaviour: string;
  legacy?: StartOptions['legacy'];
  serverUri: string;
  log: Logger;
  processEveryMs: number;
  emails: number;
  answerAfterMs: number;
  slowForMs: number;
  timeoutMs: number;
}): Promise<SlowSlackResult> {
  const bot = await startBot({
    name: 'slow',
    serverUri: o.serverUri,
    log: o.log,
    processEveryMs: o.processEveryMs,
    ...(o.legacy ? { legacy: o.legacy } : {}),
  });
  const { app, slack } = bot;
  const recover = setTimeout(() => slack.setLatency('chat.postMessage', 0), o.slowForMs);
  try {
    slack.setLatency('chat.postMessage', o.answerAfterMs);
    const started = Date.now();
    const subjects = await sendEmails(app.smtpPort, o.emails);
    let refs: string[] = [];
    while (refs.length < subjects.length && Date.now() - started < o.timeoutMs) {
      refs = (
        await app.db.models.Ticket.find({ title: { $in: subjects } })
          .select({ ref: 1 })
          .lean()
      ).map((t) => t.ref);
      await sleep(100);
    }
    for (const ref of refs) await app.services.tickets.claim(ref, USERS.support);
    let settled = false;
    while (!settled && Date.now() - started < o.timeoutMs) {
      const pending = await app.db.models.Outbox.countDocuments({ channel: 'slack', status: 'pending' });
      const cards = await app.db.models.SlackPost.countDocuments({ _id: { $in: refs.map((r) => `card:${r}`) } });
      settled = pending === 0 && cards === refs.length;
      if (!settled) await sleep(250);
    }
    const settledSeconds = (Date.now() - started) / 1000;
    const posts = slack.messages().filter((m) => !m.thread_ts && refs.some((ref) => m.text?.startsWith(`${ref} `)));
    const updatedTs = new Set(
      slack
        .callsTo('chat.update')
        .filter((c) => c.ok)
        .map((c) => String(c.args.ts)),
    );
    return {
      behaviour: o.behaviour,
      emails: o.emails,
      tickets: refs.length,
      posts: posts.length,
      duplicates: posts.length - new Set(posts.map((m) => m.text?.split(' ')[0])).size,
      updated: posts.filter((m) => updatedTs.has(m.ts)).length,
      settled,
      settledSeconds: Number(settledSeconds.toFixed(1)),
    };
  } finally {
    clearTimeout(recover);
    await bot.stop();
  }
}
