import { z } from 'zod';
import { isAccountId } from '../../src/domain/account-id.js';

/** The words of a command's text; account IDs are upper-cased because people type them in lower case. */
const words = z.string().transform((text) => text.trim().split(/\s+/).filter(Boolean));
const AccountId = z
  .string()
  .transform((s) => s.toUpperCase())
  .refine(isAccountId);

/** `/migrate` and `/plan`: nothing, or one account ID. */
export const OptionalAccountIdArgs = words.pipe(z.array(AccountId).max(1));

/** `/account`: exactly one account ID. */
export const AccountIdArgs = words.pipe(z.tuple([AccountId]));
