/**
 * What a bounce says about the message it bounces: which of our messages it was and which
 * recipients failed. Read from the RFC 3464 parts when present, else from what non-standard
 * bounces carry (the quoted original's headers, Exim's X-Failed-Recipients).
 */
import { messageIdsIn } from './message-id.js';

export type DeliveryReport = {
  originalMessageId: string | undefined;
  failedRecipients: string[];
};

/** An attachment as the report reader needs it; `content` may be only its first bytes. */
export type ReportPart = { contentType: string; content: Buffer | undefined };

const STATUS_TYPES = new Set(['message/delivery-status', 'message/global-delivery-status']);
const ORIGINAL_TYPES = new Set(['text/rfc822-headers', 'message/rfc822', 'message/global', 'message/global-headers']);

/** Parts this reader looks into: their first bytes are worth keeping even past the attachment budget. */
export function isReportPart(contentType: string): boolean {
  return STATUS_TYPES.has(contentType) || ORIGINAL_TYPES.has(contentType);
}

/**
 * `head` is the message's first bytes (the parser's reader keeps a megabyte): the quoted original
 * sits near the top of a bounce, so a large one need not be scanned to its end.
 */
export function readDeliveryReport(
  head: Buffer,
  attachments: ReportPart[],
  text: string,
  xFailedRecipients: string | undefined,
): DeliveryReport {
  const statusText = attachments
    .filter((a) => STATUS_TYPES.has(a.contentType))
    .map((a) => contentOf(a))
    .join('\n\n');
  const failed = [
    ...failedInDeliveryStatus(statusText !== '' ? statusText : text),
    ...addressesIn(xFailedRecipients ?? ''),
  ];
  return { originalMessageId: originalMessageId(head, attachments), failedRecipients: [...new Set(failed)] };
}

/** Recipients whose per-recipient block (RFC 3464 §2.3) says the delivery failed. */
export function failedInDeliveryStatus(source: string): string[] {
  const failed: string[] = [];
  for (const block of source.replace(/\r\n?/g, '\n').split(/\n[ \t]*\n/)) {
    const fields = fieldsOf(block);
    const recipient = fields.get('final-recipient') ?? fields.get('original-recipient');
    if (recipient === undefined) continue;
    const action = (fields.get('action') ?? '').toLowerCase();
    const status = fields.get('status') ?? '';
    if (action === 'failed' || (action === '' && /^5\./.test(status))) failed.push(...addressesIn(recipient));
  }
  return failed;
}

function fieldsOf(block: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of block.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const m = /^([A-Za-z-]+)\s*:\s*(.*)$/.exec(line.trim());
    if (m?.[1] && !fields.has(m[1].toLowerCase())) fields.set(m[1].toLowerCase(), (m[2] ?? '').trim());
  }
  return fields;
}

// "rfc822; <Bob@Example.com>" or a comma-separated header value → plain lowercased addresses
function addressesIn(value: string): string[] {
  return value
    .split(/[,\s]+/)
    .map((part) => part.replace(/^(?:rfc822|utf-8|x-[\w-]+);?/i, '').replace(/^[<"']+|[>"';.]+$/g, ''))
    .filter((a) => /^[^@\s<>]+@[^@\s<>]+$/.test(a))
    .map((a) => a.toLowerCase());
}

function originalMessageId(head: Buffer, attachments: ReportPart[]): string | undefined {
  for (const a of attachments) {
    if (!ORIGINAL_TYPES.has(a.contentType)) continue;
    const id = messageIdHeaderIn(contentOf(a));
    if (id) return id;
  }
  // An inline message/rfc822 part is unpacked by the parser and its headers are not exposed,
  // and plain-text bounces quote the original's headers in the body: read them from the bytes.
  const source = head.toString('latin1');
  const bodyStart = source.search(/\r?\n\r?\n/);
  return bodyStart < 0 ? undefined : messageIdHeaderIn(source.slice(bodyStart));
}

function messageIdHeaderIn(source: string): string | undefined {
  const m = /^Message-ID[ \t]*:[ \t]*((?:[^\r\n]*)(?:\r?\n[ \t]+[^\r\n]*)*)/im.exec(source);
  return m ? messageIdsIn(m[1])[0] : undefined;
}

function contentOf(a: ReportPart): string {
  return a.content ? a.content.toString('utf8') : '';
}
