/**
 * The bench's mail: large multipart messages with one base64 attachment (as a mail client sends a
 * big PDF), and small plain ones. The attachment bytes are made once and shared by every large
 * message; only the headers differ, so each has a Message-ID of its own.
 */
import { randomBytes } from 'node:crypto';

const BASE64_LINE = 76;

function base64Lines(bytes: Buffer): Buffer {
  const flat = bytes.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < flat.length; i += BASE64_LINE) lines.push(flat.slice(i, i + BASE64_LINE));
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

export interface LargeMessages {
  /** The raw bytes of message `i` (about `totalBytes` long). */
  message(i: number): Buffer;
  bytes: number;
}

/** Messages of about `totalBytes` each: a short text part and an attachment filling the rest. */
export function largeMessages(o: {
  totalBytes: number;
  domain: string;
  from: string;
  to: string;
  tag: string;
}): LargeMessages {
  // base64 with CRLF every 76 characters: 78 bytes on the wire per 57 bytes of attachment.
  const attachment = base64Lines(randomBytes(Math.floor(((o.totalBytes - 2048) * 57) / 78)));
  const head = (i: number) =>
    Buffer.from(
      [
        `From: Bench Customer <${o.from}>`,
        `To: ${o.to}`,
        `Subject: Signed contract ${i} (large attachment)`,
        `Message-ID: <${o.tag}.large.${i}@customer.test>`,
        'Date: Tue, 01 Dec 2026 10:00:00 +0000',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="BENCH-BOUNDARY"',
        '',
        '--BENCH-BOUNDARY',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'Hello, please find the signed contract attached for account R74-ZWR-R44Z.',
        '',
        '--BENCH-BOUNDARY',
        `Content-Type: application/pdf; name="contract-${i}.pdf"`,
        `Content-Disposition: attachment; filename="contract-${i}.pdf"`,
        'Content-Transfer-Encoding: base64',
        '',
        '',
      ].join('\r\n'),
    );
  const tail = Buffer.from('--BENCH-BOUNDARY--\r\n');
  return {
    message: (i) => Buffer.concat([head(i), attachment, tail]),
    bytes: head(0).length + attachment.length + tail.length,
  };
}

export function smallMessage(o: { i: number; from: string; to: string; tag: string }): Buffer {
  return Buffer.from(
    [
      `From: Small Customer <${o.from}>`,
      `To: ${o.to}`,
      `Subject: Quick question ${o.i}`,
      `Message-ID: <${o.tag}.small.${o.i}@customer.test>`,
      'Date: Tue, 01 Dec 2026 10:00:00 +0000',
      '',
      'Hello, can you tell me when my next invoice is due?',
      '',
    ].join('\r\n'),
  );
}
