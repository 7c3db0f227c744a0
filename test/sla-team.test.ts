/**
 * A team's side of service levels: round-robin owners (skipping whoever is away), the silent owner
 * replaced at the reminder, Reassign, App Home's SLA lists and paginated queue, and the numbers
 * (`/ticket stats`, `/ticket export` through Slack's file upload) agreeing with the tickets made here.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { settableClock, type SettableClock } from '../src/clock.js';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { blockActions, eventCallback, slashCommand, viewSubmission } from './support/slack-requests.js';
import { CHANNELS, eventually, settled, startTestApp, USERS, type TestApp } from './support/test-app.js';
import { HOME, TICKET_CARD, TICKET_NEW, TICKET_REASSIGN } from '../views/ids.js';
import type { TicketKind } from '../src/domain/ticket.js';

const MEMBERS = [USERS.billing, 'U0BIL2', 'U0BIL3'];
let slack: FakeSlack;
let clock: SettableClock;
let t: TestApp;
let serial = 0;

beforeAll(async () => {
  slack = await startFakeSlack();
  // Tuesday 2026-11-10, 09:00 in Berlin.
  clock = settableClock(new Date('2026-11-10T08:00:00Z'));
  t = await startTestApp({
    slack,
    env: {
      TZ_BILLING: 'Europe/Berlin',
      ASSIGN_BILLING: 'round-robin',
      ROLE_BILLING: MEMBERS.join(','),
      JOBS_PROCESS_EVERY_MS: '200',
    },
    start: { clock },
  });
});
afterAll(async () => {
  await t?.stop();
  await slack?.close();
});
beforeEach(() => slack.reset());

/** `/ticket new` as a person submits it. */
async function newTicket(kind: TicketKind, title: string, userId: string = USERS.rep): Promise<string> {
  const viewId = `VTEAM${++serial}`;
  const F = TICKET_NEW.fields;
  await t.post(
    viewSubmission({
      callbackId: TICKET_NEW.callbackId,
      userId,
      viewId,
      values: {
        [F.kind]: { type: 'static_select', selected_option: { value: kind, text: { type: 'plain_text', text: kind } } },
        [F.title]: { type: 'plain_text_input', value: title },
      },
    }),
  );
  const ticket = await eventually(
    () => t.app.db.models.Ticket.findOne({ idempotencyKey: `slack:view:${viewId}` }).lean(),
    `ticket of ${viewId}`,
  );
  return ticket.ref;
}

const ticketOf = (ref: string) => t.app.db.models.Ticket.findById(ref).lean();

describe('round-robin owners', () => {
  it('when six billing tickets open with ASSIGN_BILLING=round-robin, then each of the three members owns two, and one marked away gets none after', async () => {
    const refs: string[] = [];
    for (let i = 0; i < 6; i += 1) refs.push(await newTicket('billing', `Invoice question ${i}`));
    const owners = await Promise.all(refs.map(async (ref) => (await ticketOf(ref))!.assignee));
    const counts = Object.fromEntries(MEMBERS.map((m) => [m, owners.filter((o) => o === m).length]));
    expect(counts).toEqual({ [USERS.billing]: 2, U0BIL2: 2, U0BIL3: 2 });
    const first = (await ticketOf(refs[0]!))!;
    expect(first.status).toBe('claimed');
    expect(first.history.find((h) => h.action === 'assigned')?.note).toMatch(/round-robin/);
    // The card names the owner.
    const card = await slack.waitFor(
      'chat.postMessage',
      (c) => c.args.channel === CHANNELS.billing && String(c.args.text).includes(refs[5]!),
      15_000,
    );
    expect(JSON.stringify(card.args.blocks)).toContain(`<@${owners[5]}>`);

    // U0BIL3 marks themselves away on App Home.
    await t.post(
      blockActions({
        actionId: HOME.actions.away,
        value: 'away',
        userId: 'U0BIL3',
        view: { type: 'home', id: 'VHOME3' },
      }),
    );
    await eventually(async () => (await t.app.db.models.Role.findById('U0BIL3').lean())?.away === true, 'marked away');
    const later = [await newTicket('billing', 'Later 1'), await newTicket('billing', 'Later 2')];
    const laterOwners = await Promise.all(later.map(async (ref) => (await ticketOf(ref))!.assignee));
    expect(laterOwners).not.toContain('U0BIL3');
    expect(new Set(laterOwners).size).toBe(2);
    await t.post(
      blockActions({
        actionId: HOME.actions.away,
        value: 'back',
        userId: 'U0BIL3',
        view: { type: 'home', id: 'VHOME3' },
      }),
    );
    await eventually(async () => (await t.app.db.models.Role.findById('U0BIL3').lean())?.away === false, 'back');
  }, 120_000);

  it('when an owner has not answered by 75 % of the first-response target, then the next member owns it and is mentioned', async () => {
    clock.set(new Date('2026-11-16T08:00:00Z')); // Monday 09:00
    const ref = await newTicket('billing', 'Nobody answers');
    const before = (await ticketOf(ref))!;
    const remindAt = before.sla!.firstResponse.remindAt!;
    await eventually(
      async () => (await t.app.db.models.SlackPost.findById(`card:${ref}`).lean()) ?? undefined,
      'card posted',
    );
    clock.set(new Date(remindAt.getTime() - 2000));
    const reminder = await slack.waitFor(
      'chat.postMessage',
      (c) => Boolean(c.args.thread_ts) && String(c.args.text).includes(ref),
      30_000,
    );
    const after = (await ticketOf(ref))!;
    expect(after.assignee).not.toBe(before.assignee);
    expect(MEMBERS).toContain(after.assignee);
    expect(String(reminder.args.text)).toContain(`<@${after.assignee}>`);
    expect(after.history.filter((h) => h.action === 'reassigned')).toHaveLength(1);
  }, 60_000);
});

describe('Reassign', () => {
  it('when billing reassigns to someone outside the team, then the modal says so inline and nothing changes; to a member, then the ticket is theirs', async () => {
    const ref = await newTicket('billing', 'Reassign me');
    const owner = (await ticketOf(ref))!.assignee!;
    await t.post(
      blockActions({
        actionId: TICKET_CARD.actions.reassign,
        value: ref,
        userId: USERS.billing,
        channelId: CHANNELS.billing,
        triggerId: 'trig-reassign',
      }),
    );
    const open = await slack.waitFor('views.open', (c) => c.args.trigger_id === 'trig-reassign');
    const view = open.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe(TICKET_REASSIGN.callbackId);
    const submit = (user: string, by: string = USERS.billing) =>
      t.post(
        viewSubmission({
          callbackId: TICKET_REASSIGN.callbackId,
          userId: by,
          viewId: `VRE${++serial}`,
          privateMetadata: view.private_metadata,
          values: { [TICKET_REASSIGN.fields.owner]: { type: 'users_select', selected_user: user } },
        }),
      );

    const refused = await submit(USERS.outsider);
    expect(refused.json).toMatchObject({
      response_action: 'errors',
      errors: { [TICKET_REASSIGN.fields.owner]: expect.stringContaining('not in the billing team') },
    });
    const notAllowed = await submit('U0BIL2', USERS.support);
    expect(notAllowed.json).toMatchObject({
      response_action: 'errors',
      errors: { [TICKET_REASSIGN.fields.owner]: expect.stringContaining('Only billing team members') },
    });
    expect((await ticketOf(ref))!.assignee).toBe(owner);

    const target = MEMBERS.find((m) => m !== owner)!;
    const ok = await submit(target);
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('');
    const moved = await eventually(async () => {
      const tk = await ticketOf(ref);
      return tk?.assignee === target ? tk : undefined;
    }, 'reassigned');
    expect(moved.history.at(-1)).toMatchObject({ action: 'reassigned', actor: `slack:${USERS.billing}` });
  });
});

describe('Waiting on customer', () => {
  it('when billing presses Waiting on customer, then the ticket waits, its clocks stop and its steps are cancelled; someone outside the team is refused', async () => {
    const ref = await newTicket('billing', 'Needs the customer');
    // The ticket is stored first, then its ladders are armed: one row per target.
    const steps = () =>
      t.app.db.models.DueWork.countDocuments({ key: { $in: [`${ref}:firstResponse`, `${ref}:resolution`] } });
    await eventually(async () => (await steps()) === 2, 'both ladders armed');
    await t.post(
      blockActions({
        actionId: TICKET_CARD.actions.waitOnCustomer,
        value: ref,
        userId: USERS.support,
        channelId: CHANNELS.billing,
      }),
    );
    const refused = await slack.waitFor('chat.postEphemeral', (c) => c.args.user === USERS.support);
    expect(String(refused.args.text)).toMatch(/Only billing team members/);
    expect((await ticketOf(ref))!.status).not.toBe('waiting_on_customer');

    await t.post(
      blockActions({
        actionId: TICKET_CARD.actions.waitOnCustomer,
        value: ref,
        userId: USERS.billing,
        channelId: CHANNELS.billing,
      }),
    );
    const waiting = await eventually(async () => {
      const tk = await ticketOf(ref);
      return tk?.sla?.pausedAt ? tk : undefined;
    }, 'the clock paused');
    expect(waiting.status).toBe('waiting_on_customer');
    await eventually(async () => (await steps()) === 0, 'the steps cancelled');
  });
});

describe('App Home', () => {
  it('when a support member opens App Home, then their team’s unowned queue is listed oldest first, 15 to a page, with a pager within Slack’s limits', async () => {
    const refs: string[] = [];
    for (let i = 0; i < 17; i += 1) {
      const { ticket } = await t.app.services.tickets.open({
        kind: 'support',
        title: `Queue ${i}`,
        source: { channel: 'slack', slackUserId: USERS.rep },
        idempotencyKey: `queue:${i}`,
        actor: `slack:${USERS.rep}`,
      });
      refs.push(ticket.ref);
    }
    await t.post(
      eventCallback({ event: { type: 'app_home_opened', user: USERS.support, tab: 'home', channel: 'D0SUPP' } }),
    );
    const first = await slack.waitFor('views.publish', (c) => c.args.user_id === USERS.support, 15_000);
    const blocks = (
      first.args.view as {
        blocks: { block_id?: string; text?: { text: string }; elements?: { value?: string; action_id: string }[] }[];
      }
    ).blocks;
    expect(blocks.length).toBeLessThanOrEqual(100);
    const queue = blocks.find((b) => b.block_id === HOME.queueBlock('support'))!.text!.text;
    expect(queue).toContain(refs[0]);
    expect(queue).toContain(refs[14]);
    expect(queue).not.toContain(`${refs[15]}*`);
    expect(queue.indexOf(refs[0]!)).toBeLessThan(queue.indexOf(refs[1]!));
    for (const id of [HOME.mineOverdueBlock, HOME.mineDueSoonBlock, HOME.mineWaitingBlock])
      expect(blocks.find((b) => b.block_id === id)).toBeDefined();
    const next = blocks.find((b) => b.block_id === HOME.queuePagerBlock('support'))!.elements![0]!;
    expect(next.value).toBe('support|1');

    slack.reset();
    await t.post(
      blockActions({
        actionId: next.action_id,
        value: next.value!,
        userId: USERS.support,
        view: { type: 'home', id: 'VHOMES' },
      }),
    );
    const second = await slack.waitFor('views.publish', (c) => c.args.user_id === USERS.support, 15_000);
    const page2 = (second.args.view as { blocks: { block_id?: string; text?: { text: string } }[] }).blocks.find(
      (b) => b.block_id === HOME.queueBlock('support'),
    )!.text!.text;
    expect(page2).toContain(refs[15]);
    expect(page2).toContain(refs[16]);
    expect(page2).not.toContain(`*${refs[0]}*`);
  }, 90_000);

  it('when an owner’s ticket is past its target, then App Home lists it under overdue in red', async () => {
    const ref = await newTicket('billing', 'Will be late');
    const ticket = (await ticketOf(ref))!;
    clock.set(new Date(ticket.sla!.firstResponse.dueAt.getTime() + 20 * 60_000));
    await t.post(
      eventCallback({ event: { type: 'app_home_opened', user: ticket.assignee!, tab: 'home', channel: 'D0X' } }),
    );
    const home = await slack.waitFor('views.publish', (c) => c.args.user_id === ticket.assignee, 15_000);
    const overdue = (home.args.view as { blocks: { block_id?: string; text?: { text: string } }[] }).blocks.find(
      (b) => b.block_id === HOME.mineOverdueBlock,
    )!.text!.text;
    expect(overdue).toContain(ref);
    expect(overdue).toMatch(/:red_circle: \*first response overdue by (19|20|21) m\*/);
  }, 60_000);

  it('when someone without a role opens App Home, then they see only whom to ask', async () => {
    await t.post(
      eventCallback({ event: { type: 'app_home_opened', user: USERS.outsider, tab: 'home', channel: 'D0OUT' } }),
    );
    const home = await slack.waitFor('views.publish', (c) => c.args.user_id === USERS.outsider, 15_000);
    const ids = (home.args.view as { blocks: { block_id?: string }[] }).blocks.map((b) => b.block_id);
    expect(ids).toContain(HOME.refusedBlock);
    expect(ids).not.toContain(HOME.mineOverdueBlock);
  });
});

describe('the numbers', () => {
  it('when stats and the CSV export are asked for, then they agree with the tickets in the database', async () => {
    const closedRef = await newTicket('billing', 'Closed, 30d');
    await t.post(
      blockActions({
        actionId: TICKET_CARD.actions.close,
        value: closedRef,
        userId: USERS.billing,
        channelId: CHANNELS.billing,
      }),
    );
    await eventually(async () => (await ticketOf(closedRef))?.status === 'closed', 'closed');
    await settled(t);
    const all = await t.app.db.models.Ticket.find().lean();

    await t.post(
      slashCommand({
        command: '/ticket',
        text: 'stats 30d',
        userId: USERS.billing,
        channelId: CHANNELS.billing,
        responseUrl: slack.responseUrl('stats'),
      }),
    );
    const stats = await slack.waitFor('response_url', (c) => c.responseUrlId === 'stats', 15_000);
    const text = JSON.stringify(stats.args.blocks);
    expect(stats.args.response_type).toBe('ephemeral');
    expect(text).toContain(
      `Opened ${all.length} · answered 0 · closed ${all.filter((x) => x.status === 'closed').length}`,
    );
    expect(text).toContain('SLA attainment by kind');

    await t.post(
      slashCommand({
        command: '/ticket',
        text: 'export 30d',
        userId: USERS.billing,
        channelId: CHANNELS.billing,
        responseUrl: slack.responseUrl('export'),
      }),
    );
    const answered = await slack.waitFor('response_url', (c) => c.responseUrlId === 'export', 15_000);
    expect(String(answered.args.text)).toMatch(/^The CSV of \d+ tickets is in your direct messages/);
    const [file] = slack.files();
    expect(file).toMatchObject({ filename: 'tickets-30d.csv', channel: `D${USERS.billing}` });
    const lines = file!.content.toString('utf8').trim().split('\r\n');
    expect(lines[0]).toBe('ref,kind,team,account,opened (Europe/Berlin),first response,closed,sla met');
    expect(
      lines
        .slice(1)
        .map((l) => l.split(',')[0])
        .sort(),
    ).toEqual(all.map((x) => x.ref).sort());
    const closedLine = lines.find((l) => l.startsWith(`${closedRef},`))!.split(',');
    expect(closedLine[6]).toMatch(/^2026-11-\d\d \d\d:\d\d$/);
    // The ones past their first-response target without an answer missed it.
    const late = all.filter((x) => x.sla && !x.sla.firstResponse.metAt && x.sla.firstResponse.dueAt < clock.now());
    expect(late.length).toBeGreaterThan(0);
    for (const x of late) expect(lines.find((l) => l.startsWith(`${x.ref},`))!.endsWith(',no')).toBe(true);
  }, 60_000);

  it('when someone without a role asks for stats or an export, then they are told whom to ask and no file is sent', async () => {
    await t.post(
      slashCommand({
        command: '/ticket',
        text: 'export 30d',
        userId: USERS.outsider,
        channelId: 'C0RANDOM',
        responseUrl: slack.responseUrl('out'),
      }),
    );
    const told = await slack.waitFor('response_url', (c) => c.responseUrlId === 'out', 15_000);
    expect(String(told.args.text)).toMatch(/Only sales, billing, support and admin/);
    expect(slack.files()).toEqual([]);
    const bad = await t.post(
      slashCommand({ command: '/ticket', text: 'stats 9d', userId: USERS.billing, channelId: CHANNELS.billing }),
    );
    expect(String((bad.json as { text: string }).text)).toMatch(/^Usage:/);
  });
});
