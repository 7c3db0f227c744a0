/**
 * Raw inbound mail → plain data the rest of the app can store and reason about.
 * mailparser does the MIME work; this module bounds what it is given and what is kept,
 * and never throws: a message it cannot read becomes `{ ok: false, reason }`.
 */
import { simpleParser, type Attachment, type HeaderLines } from 'mailparser';
import { addressList, firstAddress, isMailSystemAddress, type MailAddress } from './addresses.js';
import { readDeliveryReport, type DeliveryReport } from './delivery-report.js';
import { htmlAsText, looksLikeHtml } from './html-text.js';
import { messageIdsIn } from './message-id.js';
import { trimReply } from './trim.js';

export type MailAttachment = {
  filename: string | undefined;
  contentType: string;
  size: number;
  /** Within the count and size budget; only kept attachments carry their content. */
  kept: boolean;
  content?: Buffer;
};

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

export async function parseMail(raw: Buffer, opts: ParseOptions = {}): Promise<ParseResult> {
  try {
    const limits = { ...DEFAULTS, ...opts };
    if (!Buffer.isBuffer(raw) || raw.length === 0) return { ok: false, reason: 'empty message' };
    if (raw.length > limits.maxBytes) {
      return { ok: false, reason: `too large: ${raw.length} bytes (limit ${limits.maxBytes})` };
    }
    const depth = mimeDepth(raw, limits.maxDepth);
    if (depth > limits.maxDepth) {
      return { ok: false, reason: `too deeply nested: more than ${limits.maxDepth} levels of MIME parts` };
    }
    return { ok: true, mail: await toParsedMail(raw, limits) };
  } catch (err) {
    return { ok: false, reason: reasonFor(err) };
  }
}

function reasonFor(err: unknown): string {
  const message = describe(err);
  if (/child nodes/i.test(message)) return 'too many MIME parts';
  if (/header size/i.test(message)) return 'header too large';
  return `unparseable: ${message}`;
}

async function toParsedMail(raw: Buffer, limits: typeof DEFAULTS): Promise<ParsedMail> {
  // HTML is rendered by html-text.ts (see there why); delivery-status parts are kept as
  // attachments so the report can be read; links and data: URLs are not needed.
  const parsed = await simpleParser(raw, {
    skipHtmlToText: true,
    skipImageLinks: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    keepDeliveryStatus: true,
  });

  const lines = parsed.headerLines ?? [];
  const contentType = contentTypeOf(parsed.headers.get('content-type'));
  const reportType = contentType.value === 'multipart/report' ? contentType.reportType : undefined;
  const isDeliveryReport = reportType === 'delivery-status' || reportType === 'global-delivery-status';
  const from = firstAddress(parsed.from);
  const xFailedRecipients = header(lines, 'x-failed-recipients');
  const attachmentsFound = parsed.attachments ?? [];
  const text = bodyText(parsed.text, parsed.html) || (contentType.value.startsWith('multipart/') && attachmentsFound.length === 0 ? brokenMultipartText(raw) : '');
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
    replyTo: firstAddress(parsed.replyTo),
    to: addressList(parsed.to),
    cc: addressList(parsed.cc),
    subject: singleLine(parsed.subject ?? ''),
    date: dateOf(header(lines, 'date')),
    text,
    replyText: trimReply(text),
    attachments: budgetAttachments(attachmentsFound, limits),
    headers,
    reportType,
    isDeliveryReport,
    ...(looksLikeReport
      ? readDeliveryReport(raw, parsed.attachments ?? [], text, xFailedRecipients)
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
    .map((l) => l.line.slice(l.line.indexOf(':') + 1).replace(/\r?\n[ \t]*/g, ' ').trim());
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

function bodyText(text: string | undefined, html: string | false | undefined): string {
  const plain = (text ?? '').replace(/\r\n?/g, '\n');
  if (plain.trim() !== '') return looksLikeHtml(plain) ? htmlAsText(plain) : plain;
  return typeof html === 'string' && html !== '' ? htmlAsText(html) : '';
}

/** How much of a broken multipart's raw body is kept as its text. */
const BROKEN_TEXT_CHARS = 20_000;

/**
 * A multipart whose boundary matches none of its parts (a broken client, a hand-edited message)
 * parses to nothing. Rather than lose what the customer wrote, keep the body's readable lines:
 * without delimiter lines, part headers and base64 runs.
 */
function brokenMultipartText(raw: Buffer): string {
  const source = raw.subarray(0, BROKEN_TEXT_CHARS * 4).toString('utf8');
  const start = source.search(/\r?\n\r?\n/);
  if (start < 0) return '';
  const readable = source
    .slice(start)
    .split(/\r?\n/)
    .filter((line) => !/^--/.test(line) && !/^content-[a-z-]+:/i.test(line) && !/^[A-Za-z0-9+/=]{60,}$/.test(line.trim()));
  return readable.join('\n').replace(/\n{3,}/g, '\n\n').trim().slice(0, BROKEN_TEXT_CHARS);
}

function budgetAttachments(attachments: Attachment[], limits: typeof DEFAULTS): MailAttachment[] {
  let count = 0;
  let bytes = 0;
  return attachments.map((a) => {
    const size = Buffer.isBuffer(a.content) ? a.content.length : (a.size ?? 0);
    const kept = count < limits.maxAttachments && bytes + size <= limits.maxAttachmentBytes;
    if (kept) {
      count++;
      bytes += size;
    }
    const meta = { filename: a.filename, contentType: (a.contentType ?? '').toLowerCase(), size, kept };
    return kept ? { ...meta, content: a.content } : meta;
  });
}

/**
 * Deepest multipart nesting, counted from boundary declarations and delimiter lines without
 * parsing. Stops counting past `limit` so a hostile message costs one pass over its bytes.
 */
export function mimeDepth(raw: Buffer, limit: number): number {
  const source = raw.toString('latin1');
  const depthOf = new Map<string, number>();
  let current = 0;
  let max = 0;
  const pattern = /^--([^\r\n]+)|boundary\s*=\s*(?:"([^"\r\n]+)"|([^\s;"]+))/gim;
  for (const m of source.matchAll(pattern)) {
    const declared = m[2] ?? m[3];
    if (declared !== undefined) {
      if (!depthOf.has(declared)) {
        depthOf.set(declared, current + 1);
        max = Math.max(max, current + 1);
        if (max > limit) return max;
      }
      continue;
    }
    const delimiter = (m[1] ?? '').trimEnd();
    const closing = delimiter.endsWith('--') ? depthOf.get(delimiter.slice(0, -2)) : undefined;
    if (closing !== undefined) current = closing - 1;
    else current = depthOf.get(delimiter) ?? current;
  }
  return max;
}

function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return singleLine(message).slice(0, 200) || 'unknown error';
}
