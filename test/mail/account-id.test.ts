import { describe, expect, it } from '@jest/globals';
import { ACCOUNT_ID_PATTERN, findAccountId, isAccountId } from '../../src/domain/account-id.js';

describe('account IDs', () => {
  it.each(['R74-ZWR-R44Z', 'ABC-DEF-GHIJ', '123-45A-6789'])('when %s is checked, then it is an account ID', (id) => {
    expect(isAccountId(id)).toBe(true);
  });

  it.each([
    'r74-zwr-r44z',
    '555-123-4567',
    '2024-05-0612',
    'R74-ZWR-R44',
    'R74-ZWR-R44ZZ',
    ' R74-ZWR-R44Z',
    'R74ZWRR44Z',
  ])('when %j is checked, then it is not an account ID', (s) => {
    expect(isAccountId(s)).toBe(false);
  });

  it('when free text mentions an ID, then it is found, and digits-only look-alikes are skipped', () => {
    expect(findAccountId('Call 555-123-4567 about (R74-ZWR-R44Z), thanks')).toBe('R74-ZWR-R44Z');
    expect(findAccountId('ref X-R74-ZWR-R44Z-2 only')).toBeUndefined();
  });

  it('when the pattern source is reused elsewhere, then it builds a working RegExp', () => {
    expect(new RegExp(`^${ACCOUNT_ID_PATTERN}$`).test('R74-ZWR-R44Z')).toBe(true);
  });
});
