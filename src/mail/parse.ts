/**
 * Raw inbound mail → plain data the rest of the app can store and reason about.
 * mailparser does the MIME work (read-message.ts feeds it a stream with bounds); this module turns
 * what it read into plain data and never throws for what a message says: a message it cannot read
 * becomes `{ ok: false, reason }`. Only a failure to read the bytes at all (a stream from the
 * database erroring) is thrown, so the caller retries.
 */
import { Readable } from 'node:stream';
import type { AddressObject, HeaderLines } from 'mailparser';
import { addressList, firstAddress, isMailSystemAddress, type MailAddress } from './addresses.js';
import { readDeliveryReport, type DeliveryReport } from './delivery-report.js';
import { htmlAsText, looksLikeHtml } from './html-text.js';
import { messageIdsIn } from './message-id.js';
import { readMessage, Unreadable, type ReadAttachment, type ReadMessage } from './read-message.js';
import { trimReply } from './trim.js';

export type MailAttachment = Omit<ReadAttachment, 'reportHead'>;

/** Raw (unfolded, trimmed) values of the headers that decide whether mail may be answered. */
export type LoopHeaders = {
  autoSubmitted?: string;
  precedence?: string;
  listId?: string;
  xAutoResponseSuppress?: string;
  xAutoreply?: string;
  xAutorespond?: string;
  returnPath?: string;
  /** Top-level MIME type, lowercased, without parameters. */
  contentType: string;
};

export type ParsedMail = {
  messageId: string | undefined;
  inReplyTo: string | undefined;
  references: string[];
  from: MailAddress | undefined;
  replyTo: MailAddress | undefined;
  to: string[];
  cc: string[];
  subject: string;
  date: Date | undefined;
  text: string;
  replyText: string;
  attachments: MailAttachment[];
  headers: LoopHeaders;
  /** `report-type` of a top-level multipart/report, lowercased. */
  reportType: string | undefined;
  isDeliveryReport: boolean;
} & DeliveryReport;

export type { MailAddress };
export type ParseResult = { ok: true; mail: ParsedMail } | { ok: false; reason: string };

export type ParseOptions = {
  maxBytes?: number;
  maxAttachmentBytes?: number;
  maxAttachments?: number;
  /** Deepest multipart nesting accepted; real mail rarely goes past 5. */
  maxDepth?: number;
};

const MiB = 1024 * 1024;
const DEFAULTS = { maxBytes: 25 * MiB, maxAttachmentBytes: 10 * MiB, maxAttachments: 20, maxDepth: 32 };
const MAX_REFERENCES = 50;

export async function parseMail(raw: Buffer | Readable, opts: ParseOptions = {}): Promise<ParseResult> {
  const limits = { ...DEFAULTS, ...opts };
  if (Buffer.isBuffer(raw)) {
    if (raw.length === 0) return { ok: false, reason: 'empty message' };
    if (raw.length > limits.maxBytes)
      return { ok: false, reason: `too large: ${raw.length} bytes (limit ${limits.maxBytes})` };
  } else if (!(raw instanceof Readable)) {
    return { ok: false, reason: 'empty message' };
  }
  let read: ReadMessage;
  try {
    read = await readMessage(Buffer.isBuffer(raw) ? Readable.from([raw], { objectMode: false }) : raw, limits);
  } catch (err) {
    if (err instanceof Unreadable) return { ok: false, reason: err.message };
    throw err;
  }
  try {
    return { ok: true, mail: toParsedMail(read) };
  } catch (err) {
    return { ok: false, reason: `unparseable: ${describe(err)}` };
  }
}

function toParsedMail(parsed: ReadMessage): ParsedMail {
  const lines = parsed.headerLines;
  const addresses = (key: string) => parsed.headers.get(key) as AddressObject | AddressObject[] | undefined;
  const contentType = contentTypeOf(parsed.headers.get('content-type'));
  const reportType = contentType.value === 'multipart/report' ? contentType.reportType : undefined;
  const isDeliveryReport = reportType === 'delivery-status' || reportType === 'global-delivery-status';
  const from = firstAddress(addresses('from'));
  const xFailedRecipients = header(lines, 'x-failed-recipients');
  // HTML is rendered by html-text.ts (see there why), not by mailparser.
  const text =
    bodyText(parsed.text, parsed.html) ||
    (contentType.value.startsWith('multipart/') && parsed.attachments.length === 0
      ? brokenMultipartText(parsed.head)
      : '');
  const subject = parsed.headers.get('subject');
  const headers: LoopHeaders = {
    autoSubmitted: header(lines, 'auto-submitted'),
    precedence: header(lines, 'precedence'),
    listId: header(lines, 'list-id'),
    xAutoResponseSuppress: header(lines, 'x-auto-response-suppress'),
    xAutoreply: header(lines, 'x-autoreply'),
    xAutorespond: header(lines, 'x-autorespond'),
    returnPath: header(lines, 'return-path'),
    contentType: contentType.value,
  };
  // Only reports and mail from mail systems are searched for the message they bounce: in a
  // person's mail a quoted "Message-ID:" line is just text.
  const looksLikeReport =
    reportType !== undefined ||
    xFailedRecipients !== undefined ||
    !from ||
    isMailSystemAddress(from.address) ||
    /^<\s*>$/.test(headers.returnPath ?? '') ||
    isMailSystemAddress((headers.returnPath ?? '').replace(/^<|>$/g, ''));

  return {
    messageId: messageIdsIn(header(lines, 'message-id'))[0],
    inReplyTo: messageIdsIn(header(lines, 'in-reply-to'))[0],
    references: boundReferences(messageIdsIn(allHeaders(lines, 'references').join(' '))),
    from,
    replyTo: firstAddress(addresses('reply-to')),
    to: addressList(addresses('to')),
    cc: addressList(addresses('cc')),
    subject: singleLine(typeof subject === 'string' ? subject : ''),
    date: dateOf(header(lines, 'date')),
    text,
    replyText: trimReply(text),
    attachments: parsed.attachments.map(({ reportHead: _head, ...a }) => a),
    headers,
    reportType,
    isDeliveryReport,
    ...(looksLikeReport
      ? readDeliveryReport(parsed.head, parsed.attachments.map(reportPart), text, xFailedRecipients)
      : { originalMessageId: undefined, failedRecipients: [] }),
  };
}

// A long References header is kept bounded the way RFC 5322 suggests: the thread's first
// message and the most recent ones.
function boundReferences(ids: string[]): string[] {
  if (ids.length <= MAX_REFERENCES) return ids;
  return [...ids.slice(0, 1), ...ids.slice(ids.length - (MAX_REFERENCES - 1))];
}

function header(lines: HeaderLines, key: string): string | undefined {
  return allHeaders(lines, key)[0];
}

function allHeaders(lines: HeaderLines, key: string): string[] {
  return lines
    .filter((l) => l.key === key)
    .map((l) =>
      l.line
        .slice(l.line.indexOf(':') + 1)
        .replace(/\r?\n[ \t]*/g, ' ')
        .trim(),
    );
}

function contentTypeOf(value: unknown): { value: string; reportType: string | undefined } {
  const v = value as { value?: unknown; params?: Record<string, unknown> } | undefined;
  const type = typeof v?.value === 'string' && v.value.trim() !== '' ? v.value.trim().toLowerCase() : 'text/plain';
  const reportType = v?.params?.['report-type'];
  return { value: type, reportType: typeof reportType === 'string' ? reportType.trim().toLowerCase() : undefined };
}

function singleLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function dateOf(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function bodyText(text: string | undefined, html: string | undefined): string {
  const plain = (text ?? '').replace(/\r\n?/g, '\n');
  if (plain.trim() !== '') return looksLikeHtml(plain) ? htmlAsText(plain) : plain;
  return html ? htmlAsText(html) : '';
}

/** How much of a broken multipart's raw body is kept as its text. */
const BROKEN_TEXT_CHARS = 20_000;

/**
 * A multipart whose boundary matches none of its parts (a broken client, a hand-edited message)
 * parses to nothing. Rather than lose what the customer wrote, keep the body's readable lines:
 * without delimiter lines, part headers and base64 runs.
 */
function brokenMultipartText(head: Buffer): string {
  // The parser's reader keeps the first MiB of the message: more than is read here.
  const source = head.subarray(0, BROKEN_TEXT_CHARS * 4).toString('utf8');
  const start = source.search(/\r?\n\r?\n/);
  if (start < 0) return '';
  const readable = source
    .slice(start)
    .split(/\r?\n/)
    .filter(
      (line) => !/^--/.test(line) && !/^content-[a-z-]+:/i.test(line) && !/^[A-Za-z0-9+/=]{60,}$/.test(line.trim()),
    );
  return readable
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
    .slice(0, BROKEN_TEXT_CHARS);
}

/** What the delivery-report reader sees of an attachment: its content, or at least its first bytes. */
function reportPart(a: ReadAttachment): { contentType: string; content: Buffer | undefined } {
  return { contentType: a.contentType, content: a.content ?? a.reportHead };
}

function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return singleLine(message).slice(0, 200) || 'unknown error';
}
