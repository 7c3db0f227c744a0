/**
 * C4S account IDs look like `R74-ZWR-R44Z`: uppercase letters and digits in groups of 3-3-4.
 * At least one letter is required so that phone numbers and dates of the same shape are not
 * taken for IDs; neighbouring letters, digits or dashes mean it is part of something longer.
 */
export const ACCOUNT_ID_PATTERN = String.raw`(?<![A-Za-z0-9-])(?=[A-Z0-9-]{0,11}[A-Z])[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{4}(?![A-Za-z0-9-])`;

const EXACT = new RegExp(`^${ACCOUNT_ID_PATTERN}$`);
const ANYWHERE = new RegExp(ACCOUNT_ID_PATTERN);

export function isAccountId(s: string): boolean {
  return EXACT.test(s);
}

/** The first account ID mentioned in free text, if any. */
export function findAccountId(text: string): string | undefined {
  return ANYWHERE.exec(text)?.[0];
}
