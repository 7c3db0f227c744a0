/** Builds raw RFC 5322 messages for the mail tests; headers in the order given. */
import { randomBytes } from 'node:crypto';

export function rawMail(headers: Record<string, string>, body = 'Hello,\r\n\r\nPlease help.\r\n'): Buffer {
  const defaults: Record<string, string> = {
    From: 'Ada Lovelace <Ada@Customer.example>',
    To: 'billing@example.com',
    Subject: 'Question about my invoice',
    'Message-ID': '<m1@Customer.Example>',
    Date: 'Mon, 06 May 2024 10:00:00 +0000',
  };
  const all = { ...defaults, ...headers };
  const lines = Object.entries(all)
    .filter(([, value]) => value !== '')
    .map(([name, value]) => `${name}: ${value}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/** A multipart/report bounce as Postfix sends it. */
export function postfixBounce(originalId = '<AR-1001.abc@example.com>'): Buffer {
  const b = 'REPORT-BOUNDARY';
  return rawMail(
    {
      From: 'MAILER-DAEMON@mx.customer.example (Mail Delivery System)',
      To: 'billing@example.com',
      Subject: 'Undelivered Mail Returned to Sender',
      'Return-Path': '<>',
      'Auto-Submitted': 'auto-replied',
      'MIME-Version': '1.0',
      'Content-Type': `multipart/report; report-type=delivery-status; boundary="${b}"`,
    },
    [
      `--${b}`,
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'I am sorry to have to inform you that your message could not be delivered.',
      '',
      `--${b}`,
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.customer.example',
      '',
      'Final-Recipient: rfc822; Gone@Customer.example',
      'Action: failed',
      'Status: 5.1.1',
      '',
      'Final-Recipient: rfc822; slow@customer.example',
      'Action: delayed',
      'Status: 4.4.1',
      '',
      `--${b}`,
      'Content-Type: text/rfc822-headers',
      '',
      'From: billing@example.com',
      'To: gone@customer.example',
      `Message-ID: ${originalId}`,
      'Subject: [AR-1001] We received your request',
      '',
      `--${b}--`,
      '',
    ].join('\r\n'),
  );
}

/** A message from ann@customer.test with a base64 attachment of `attachmentBytes`; CRLF line ends, ending in CRLF. */
export function withLargeAttachment(messageId: string, attachmentBytes: number): Buffer {
  const base64 = randomBytes(attachmentBytes).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    [
      'From: Ann Archer <ann@customer.test>',
      'To: support@example.com',
      'Subject: Signed contract attached',
      `Message-ID: <${messageId}>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="B"',
      '',
      '--B',
      'Content-Type: text/plain',
      '',
      'The signed contract is attached.',
      '--B',
      'Content-Type: application/pdf; name="contract.pdf"',
      'Content-Disposition: attachment; filename="contract.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      base64,
      '--B--',
      '',
    ].join('\r\n'),
  );
}
