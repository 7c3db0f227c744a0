/**
 * The price book (price-book.json, CONTRACT.md "Plan changes"): tiers, add-ons, reasons, regions
 * and the rules' day counts, validated once at load, and the lookups and money formatting that
 * read it. No I/O beyond the import of the file.
 */
import { z } from 'zod';
import priceBookFile from './price-book.json' with { type: 'json' };

const Reason = z.object({ id: z.string().min(1), label: z.string().min(1) });
const PriceBookSchema = z.object({
  currency: z.string().length(3),
  selfServeMaxMau: z.number().int().positive(),
  yearlyMonthsCharged: z.number().int().positive(),
  tiers: z
    .array(
      z.object({
        id: z.string().min(1),
        label: z.string(),
        maxMau: z.number().int().positive(),
        monthlyCents: z.number().int().nonnegative(),
      }),
    )
    .min(1),
  enterprise: z.object({ id: z.literal('enterprise'), label: z.string() }),
  addons: z.array(
    z.union([
      z.object({ id: z.string().min(1), label: z.string(), monthlyCents: z.number().int().nonnegative() }),
      z.object({ id: z.string().min(1), label: z.string(), percentOfTier: z.number().int().positive().max(100) }),
    ]),
  ),
  addonRemovalReasons: z.array(Reason).min(1),
  cancellationReasons: z.array(Reason).min(1),
  regions: z.array(Reason).min(1),
  c4sRegion: z.string(),
  retentionYears: z.number().int().positive(),
  trialDays: z.number().int().positive(),
  trialLockDay: z.number().int().positive(),
  pauseDays: z.number().int().positive(),
  backupPurgeDays: z.number().int().positive(),
});
export type PriceBook = z.infer<typeof PriceBookSchema>;

/** Validated at load: a broken price book stops the process at start, not at a customer's upgrade. */
export const PRICE_BOOK: PriceBook = (() => {
  const book = PriceBookSchema.parse(priceBookFile);
  const mau = book.tiers.map((t) => t.maxMau);
  if (mau.some((m, i) => i > 0 && m <= mau[i - 1]!))
    throw new Error('price book: tiers must be in ascending MAU order');
  if (mau.at(-1)! > book.selfServeMaxMau) throw new Error('price book: a tier is above the self-serve limit');
  return book;
})();

export const tierById = (id: string) => PRICE_BOOK.tiers.find((t) => t.id === id);
export const addonById = (id: string) => PRICE_BOOK.addons.find((a) => a.id === id);
export const tierIndex = (id: string) => PRICE_BOOK.tiers.findIndex((t) => t.id === id);
export const tierLabel = (id: string) =>
  id === 'enterprise' ? PRICE_BOOK.enterprise.label : (tierById(id)?.label ?? id);
export const addonLabel = (id: string) => addonById(id)?.label ?? id;
export const reasonLabel = (list: { id: string; label: string }[], id: string) =>
  list.find((r) => r.id === id)?.label ?? id;

/** `1234` → `€12.34`. */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const symbol = PRICE_BOOK.currency === 'EUR' ? '€' : `${PRICE_BOOK.currency} `;
  return `${sign}${symbol}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** What one add-on costs a month on a tier. */
export function addonMonthlyCents(addonId: string, tierId: string): number {
  const addon = addonById(addonId);
  if (!addon) throw new Error(`unknown add-on ${addonId}`);
  if ('monthlyCents' in addon) return addon.monthlyCents;
  const tier = tierById(tierId);
  return tier ? Math.round((tier.monthlyCents * addon.percentOfTier) / 100) : 0;
}
