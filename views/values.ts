/**
 * What buttons and select options carry in `value`: a ticket reference, alone or with one more
 * field after a `|` (`AR-1001|upgrade`), so a click says which ticket it is about without a
 * database read. Views encode with these and handlers decode with the same codec, so the two
 * cannot drift apart; decoding validates, and a forged value is refused.
 */
import { z } from 'zod';
import { isAccountId } from '../src/domain/account-id.js';
import { RECORDABLE_PAYMENTS } from '../src/domain/migration-steps.js';
import { REF_PATTERN, TICKET_KINDS } from '../src/domain/ticket.js';

const SEPARATOR = '|';

/** A value (or argument) naming one ticket: `AR-1001`. */
export const TicketRefValue = z.string().regex(REF_PATTERN);

/** `AR-1|x` → `['AR-1', 'x']`; a value without the separator stays one part, which the tuple refuses. */
const split = (value: unknown) => {
  if (typeof value !== 'string') return value;
  const at = value.indexOf(SEPARATOR);
  return at < 0 ? [value] : [value.slice(0, at), value.slice(at + 1)];
};

/** A ticket reference and one more field; the field may contain no `|` of its own. */
function refAnd<T extends z.ZodType<unknown, string>>(field: T) {
  return {
    encode: (ref: string, value: z.input<T>): string => `${ref}${SEPARATOR}${value}`,
    decode: z.preprocess(split, z.tuple([TicketRefValue, field])),
  };
}

/** Change kind on a ticket card: `AR-n|<kind>`. */
export const KindChoice = refAnd(z.enum(TICKET_KINDS));

/** Record payment on a handoff card: `AR-n|<status>`. */
export const PaymentChoice = refAnd(z.enum(RECORDABLE_PAYMENTS));

/** Start handoff on a migration card: `AR-n|<accountId>`; an account ID that is not one is dropped (the modal opens empty). */
export const StartHandoffValue = refAnd(z.string().transform((id) => (isAccountId(id) ? id : undefined)));
