import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { trimReply } from '../../src/mail/trim.js';
import { describeWithShared, sharedPath } from '../support/shared-data.js';

const SHARED_FIXTURES = sharedPath('corpus', 'email', 'reply-trimmer');
/** The project's own replies, one per way mail clients quote (`<name>.txt` and `<name>.expected.txt`). */
const OWN_FIXTURES = path.resolve(process.cwd(), 'test', 'fixtures', 'replies');
// The count reached when this test was written; a change that lowers it is a regression.
const EXPECTED_MATCHES = 64;

const ends = (s: string) => s.replace(/\r\n?/g, '\n').trim();

describeWithShared(
  SHARED_FIXTURES,
  'the public reply-trimmer fixtures (../shared/corpus/email/reply-trimmer) were not compared',
)('trimReply on the public fixtures', () => {
  it('when run over the reply-trimmer fixtures, then the trimmed replies match', () => {
    const names = readdirSync(path.join(SHARED_FIXTURES!, 'emails')).sort();
    const mismatched = names.filter((name) => {
      const body = readFileSync(path.join(SHARED_FIXTURES!, 'emails', name), 'utf8');
      const expected = readFileSync(path.join(SHARED_FIXTURES!, 'trimmed', name), 'utf8');
      return ends(trimReply(body)) !== ends(expected);
    });
    const matched = names.length - mismatched.length;
    process.stderr.write(
      `reply-trimmer fixtures: ${matched}/${names.length} match${mismatched.length ? `; not: ${mismatched.join(', ')}` : ''}\n`,
    );
    expect(names.length).toBeGreaterThan(50);
    expect(matched).toBeGreaterThanOrEqual(EXPECTED_MATCHES);
  });
});

describe('trimReply', () => {
  const own = readdirSync(OWN_FIXTURES)
    .filter((n) => n.endsWith('.txt') && !n.endsWith('.expected.txt'))
    .sort();

  it('has its own fixtures for each way replies are quoted', () => {
    expect(own.length).toBeGreaterThanOrEqual(10);
  });

  it.each(own)('when the reply in %s is trimmed, then what is left is the answer only', (name) => {
    const body = readFileSync(path.join(OWN_FIXTURES, name), 'utf8');
    const expected = readFileSync(path.join(OWN_FIXTURES, name.replace(/\.txt$/, '.expected.txt')), 'utf8');
    expect(ends(trimReply(body))).toBe(ends(expected));
  });

  it('when a reply is top-posted above a quoted message, then only the reply stays', () => {
    const text =
      'Yes, please upgrade us.\n\nOn Mon, 6 May 2024 at 10:00, Billing <billing@example.com> wrote:\n> Which tier?\n';
    expect(trimReply(text)).toBe('Yes, please upgrade us.');
  });

  it('when an Outlook header block follows the reply, then the block and everything below go', () => {
    const text =
      'Thanks!\n\nFrom: Billing <billing@example.com>\nSent: Monday, May 6, 2024 10:00 AM\nTo: Ada\nSubject: [AR-1001] Your request\n\nOld text';
    expect(trimReply(text)).toBe('Thanks!');
  });

  it('when a signature and a phone footer follow the reply, then they are removed', () => {
    expect(trimReply('Pause it please.\n\nSent from my iPhone')).toBe('Pause it please.');
    expect(trimReply('Pause it please.\n-- \nAda Lovelace\nCTO')).toBe('Pause it please.');
  });

  it('when the customer answers inline below quotes, then the quotes they answer stay', () => {
    const text =
      'On Mon, 6 May 2024, Billing <billing@example.com> wrote:\n> Which tier?\n\nThe 50k tier.\n\n> And when?\n\nToday.';
    expect(trimReply(text)).toBe('The 50k tier.\n\n> And when?\n\nToday.');
  });

  it('when prose merely mentions writing to an address, then nothing is cut', () => {
    const text = 'Our CFO wrote to billing@example.com last week about this:\nwe were charged twice.';
    expect(trimReply(text)).toBe(text);
  });

  it('when the message is only a quote or empty, then it is left as it is', () => {
    expect(trimReply('> only a quote')).toBe('> only a quote');
    expect(trimReply('\n\n')).toBe('');
  });
});
