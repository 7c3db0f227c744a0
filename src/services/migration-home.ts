/**
 * The App Home read model of migrations: what billing has waiting, what is blocked on a failed
 * payment and which C4S cancellations fall in the coming week, and sales' own handoffs. Reads only;
 * the steps that change a migration are in migration-steps.ts.
 */
import type { MigrationDeps } from './migrations.js';
import { nextAction } from '../domain/migration-steps.js';
import { OPEN_STATUSES } from '../domain/ticket.js';
import { rolesOf } from './roles.js';
import type { Ticket } from './tickets.js';

type Migration = NonNullable<Ticket['migration']>;

/** One migration as App Home lists it. */
export interface MigrationListItem {
  ref: string;
  customerName: string;
  accountId: string;
  stage: string;
  next: ReturnType<typeof nextAction>;
  paymentReason?: string | undefined;
  cancelAt?: Date | undefined;
  salesUserId?: string | undefined;
}

export interface MigrationHome {
  billing?: {
    awaiting: MigrationListItem[];
    paymentsBlocked: MigrationListItem[];
    cancellationsThisWeek: MigrationListItem[];
  };
  sales?: { handoffs: MigrationListItem[] };
}

const WEEK_MS = 7 * 86_400_000;

/** What App Home shows `userId` of migrations, by role: billing's queues, sales' own handoffs. */
export async function migrationHome(deps: MigrationDeps, userId: string): Promise<MigrationHome> {
  const roles = await rolesOf(deps.models, userId);
  const isBilling = roles.includes('billing') || roles.includes('admin');
  const isSales = roles.includes('sales') || roles.includes('admin');
  if (!isBilling && !isSales) return {};
  // One query per open status: equalities FerretDB hands to its indexes, so the queue costs what the
  // open migrations cost, not every migration ever handed off (the stage is checked here, not there).
  const found = await Promise.all(
    OPEN_STATUSES.map((status) =>
      deps.models.Ticket.find({ kind: 'migration', status }).sort({ number: 1 }).limit(200).lean<Ticket[]>(),
    ),
  );
  const rows = found
    .flat()
    .filter((t) => t.migration?.stage)
    .sort((x, y) => x.number - y.number)
    .slice(0, 200);
  const items = rows.map((t): MigrationListItem & { m: Migration } => {
    const m = t.migration!;
    return {
      m,
      ref: t.ref,
      customerName: m.customerName ?? t.title,
      accountId: m.accountId ?? t.accountId ?? '—',
      stage: m.stage,
      next: nextAction(m),
      ...(m.payment?.reason ? { paymentReason: m.payment.reason } : {}),
      ...(m.cancelAt && !m.c4sCancelledAt ? { cancelAt: m.cancelAt } : {}),
      ...(m.salesUserId ? { salesUserId: m.salesUserId } : {}),
    };
  });
  const strip = ({ m: _m, ...item }: MigrationListItem & { m: Migration }) => item;
  const now = deps.now().getTime();
  const home: MigrationHome = {};
  if (isBilling) {
    home.billing = {
      awaiting: items.filter((i) => i.next.who === 'billing' && i.m.payment?.status !== 'failed').map(strip),
      paymentsBlocked: items.filter((i) => i.m.payment?.status === 'failed').map(strip),
      cancellationsThisWeek: items
        .filter((i) => i.cancelAt && i.cancelAt.getTime() >= now && i.cancelAt.getTime() < now + WEEK_MS)
        .map(strip),
    };
  }
  if (isSales) home.sales = { handoffs: items.filter((i) => i.salesUserId === userId).map(strip) };
  return home;
}
