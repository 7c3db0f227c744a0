/** Reading the `/plan` modal's state and previewing it: shared by the refresh action and the submission. */
import type { ViewOutput } from '@slack/bolt';
import { z } from 'zod';
import { isAccountId } from '../src/domain/account-id.js';
import { REQUESTED_CHANGES } from '../src/domain/plans.js';
import { formatCents } from '../src/domain/price-book.js';
import { PLAN_MODAL } from '../views/ids.js';
import type { PlanModalState } from '../views/plan-modal.js';
import { readFields } from './view-submissions/fields.js';
import type { HandlerDeps } from './types.js';

const F = PLAN_MODAL.fields;

/** The modal's values by field; the confirmation text is kept exactly as typed (DELETE must match). */
export function planState(values: ViewOutput['state']['values']): PlanModalState & { confirm?: string | undefined } {
  const v = readFields(values, Object.values(F));
  const confirmRaw = values[F.confirm]?.[F.confirm]?.value;
  return {
    accountId: v[F.accountId]?.toUpperCase(),
    change: v[F.change],
    tier: v[F.tier],
    addon: v[F.addon],
    reason: v[F.reason],
    region: v[F.region],
    confirm: typeof confirmRaw === 'string' ? confirmRaw : undefined,
  };
}

export const PlanForm = z.object({
  accountId: z
    .string({ error: 'Give the account ID, e.g. R74-ZWR-R44Z.' })
    .refine(isAccountId, 'Account IDs look like R74-ZWR-R44Z.'),
  change: z.enum(REQUESTED_CHANGES, { error: 'Choose the change.' }),
  tier: z.string().optional(),
  addon: z.string().optional(),
  reason: z.string().optional(),
  region: z.string().optional(),
  confirm: z.string().optional(),
});
export type PlanForm = z.infer<typeof PlanForm>;

/** Form field name (zod path) → the modal's block id, for inline errors. */
export const FIELD_BLOCK: Record<string, string> = {
  accountId: F.accountId,
  change: F.change,
  tier: F.tier,
  addon: F.addon,
  reason: F.reason,
  region: F.region,
  confirm: F.confirm,
};

/** The preview line for the modal: what happens and when (with the amount), or why not. */
export async function previewText(
  deps: HandlerDeps,
  userId: string,
  state: ReturnType<typeof planState>,
): Promise<{ ok: boolean; text: string; field?: string }> {
  const form = PlanForm.safeParse(state);
  if (!form.success) return { ok: true, text: 'Choose the account and the change to see what will happen and when.' };
  const f = form.data;
  const p = await deps.services.plans.preview({
    userId,
    accountId: f.accountId,
    request: { type: f.change, tier: f.tier, addon: f.addon, reason: f.reason, confirm: f.confirm, region: f.region },
  });
  if (!p.ok) return { ok: false, text: p.message, field: p.field };
  const d = p.decision;
  if (d.outcome === 'lead')
    return {
      ok: true,
      text: d.message
        .replace(/ was passed to sales/, ' will be passed to sales')
        .replace(/Nothing was changed\.|The plan is unchanged\./, 'Nothing else changes.'),
    };
  const lines =
    d.proration && d.proration.lines.length
      ? `\nInvoice: ${d.proration.lines.map((l) => `${l.description} ${formatCents(l.cents)}`).join('; ')}; total ${formatCents(d.proration.totalCents)}.`
      : '';
  return { ok: true, text: `${d.summary}${lines}` };
}
