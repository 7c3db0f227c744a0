/**
 * The replay's mail: generated, so the bench needs nothing outside this repository. Each message is
 * a plain customer email with its own sender, subject and Message-ID, written as an .eml file for
 * the ingest bench's sender worker (which sends files as they are).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const TOPICS = [
  [
    'Invoice shows the wrong VAT',
    'The VAT on our last invoice is 19% but we are registered in Austria. Could you correct it?',
  ],
  [
    'Please upgrade us to the next MAU tier',
    'We are about to pass our monthly active users limit. Please move us up a tier from today.',
  ],
  [
    'Question about the add-on price',
    'What does the audit log add-on cost on our plan, and is it prorated for this month?',
  ],
  [
    'Pause our account over the summer',
    'We would like to pause the account for two months while the project is on hold.',
  ],
  ['Card payment failed', 'Our card payment failed this morning. We have updated the card; can you try again?'],
  [
    'Move our data to the EU region',
    'Our legal team asks that all of our data is stored in the EU. What are the next steps?',
  ],
  [
    'Cannot log in to the dashboard',
    'Since yesterday the dashboard says our trial has ended, but we entered billing details.',
  ],
  ['Enterprise plan enquiry', 'We are evaluating the Enterprise plan for about 150,000 MAU. Can someone call us?'],
] as const;

function message(i: number, domain: string): string {
  const [subject, ask] = TOPICS[i % TOPICS.length]!;
  const company = `client${i % 97}`;
  const body = [
    'Hello,',
    '',
    ask,
    '',
    `Our account reference is ACC-${String(100000 + i)}. ${'We have been customers for a few years and the product works well for us. '.repeat(1 + (i % 4))}`,
    '',
    'Kind regards,',
    `Customer ${i}`,
    `${company} GmbH`,
  ].join('\r\n');
  return [
    `From: Customer ${i} <customer${i}@${company}.test>`,
    `To: support@${domain}`,
    `Subject: ${subject} (${i})`,
    `Date: ${new Date(Date.UTC(2030, 0, 1, 9, 0, i % 60)).toUTCString()}`,
    `Message-ID: <bench-lanes.${i}.${process.pid}@${company}.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    body,
    '',
  ].join('\r\n');
}

/** Writes `count` messages to a new temporary folder; returns their paths and a remover. */
export async function writeMails(
  count: number,
  domain: string,
): Promise<{ files: string[]; bytes: number; remove: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-bench-mails-'));
  const files: string[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i += 1) {
    const file = path.join(dir, `${String(i).padStart(5, '0')}.eml`);
    const text = message(i, domain);
    await fs.writeFile(file, text);
    files.push(file);
    bytes += Buffer.byteLength(text);
  }
  return { files, bytes, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}
