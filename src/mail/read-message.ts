/**
 * Reads a message from a stream through mailparser's streaming parser, with bounded memory: the
 * bytes are counted and their MIME nesting measured before the parser sees them (so an oversized
 * or hostile message is refused part-way), attachment content is kept only within the budget
 * (the rest is read and dropped as it is decoded), and only the message's first bytes are kept
 * whole, for the delivery-report reader. Text parts are what mailparser collects; they are bounded
 * by the message size.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MailParser, type AttachmentStream, type HeaderLines, type Headers, type MessageText } from 'mailparser';
import { isReportPart } from './delivery-report.js';
import { MimeDepthCounter } from './mime-depth.js';

export type ReadLimits = { maxBytes: number; maxAttachmentBytes: number; maxAttachments: number; maxDepth: number };

export type ReadAttachment = {
  filename: string | undefined;
  contentType: string;
  size: number;
  /** Within the count and size budget; only kept attachments carry their content. */
  kept: boolean;
  content?: Buffer;
  /** Of a delivery-report part (status, returned headers), its first bytes even when not kept. */
  reportHead?: Buffer;
};

export type ReadMessage = {
  headers: Headers;
  headerLines: HeaderLines;
  text: string | undefined;
  html: string | undefined;
  attachments: ReadAttachment[];
  /** The message's first HEAD_BYTES. */
  head: Buffer;
};

/** The bytes were read but do not make a message we can use; the message says why, for staff. */
export class Unreadable extends Error {}

/** Bounces quote what they return near the top; nothing past this is needed whole. */
export const HEAD_BYTES = 1024 * 1024;
const REPORT_HEAD_BYTES = 256 * 1024;
/** All report-part heads of one message together. */
const REPORT_BUDGET = 1024 * 1024;

/** Counts, measures and keeps the head of the bytes on their way to the parser. */
class Gate extends Transform {
  private bytes = 0;
  private readonly depth: MimeDepthCounter;
  private readonly headParts: Buffer[] = [];
  private headBytes = 0;

  constructor(private readonly limits: ReadLimits) {
    super();
    this.depth = new MimeDepthCounter(limits.maxDepth);
  }

  get head(): Buffer {
    return Buffer.concat(this.headParts, this.headBytes);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limits.maxBytes)
      return done(new Unreadable(`too large: more than ${this.limits.maxBytes} bytes (limit ${this.limits.maxBytes})`));
    this.depth.push(chunk);
    if (this.depth.exceeded) return done(this.tooDeep());
    if (this.headBytes < HEAD_BYTES) {
      const part = chunk.subarray(0, HEAD_BYTES - this.headBytes);
      this.headParts.push(Buffer.from(part));
      this.headBytes += part.length;
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.bytes === 0) return done(new Unreadable('empty message'));
    this.depth.end();
    done(this.depth.exceeded ? this.tooDeep() : null);
  }

  private tooDeep(): Unreadable {
    return new Unreadable(`too deeply nested: more than ${this.limits.maxDepth} levels of MIME parts`);
  }
}

/** Reads one attachment's content to its end, keeping it only while it fits what is left of the budget. */
async function readAttachment(
  a: AttachmentStream,
  budget: { count: number; bytes: number; reportBytes: number },
  limits: ReadLimits,
): Promise<ReadAttachment> {
  const contentType = (a.contentType ?? '').toLowerCase();
  const kept: Buffer[] = [];
  const report: Buffer[] = [];
  let size = 0;
  let keeping = budget.count < limits.maxAttachments;
  let reportRoom = isReportPart(contentType) ? Math.min(REPORT_HEAD_BYTES, REPORT_BUDGET - budget.reportBytes) : 0;
  for await (const chunk of a.content as Readable) {
    size += chunk.length;
    keeping &&= budget.bytes + size <= limits.maxAttachmentBytes;
    if (keeping) kept.push(chunk);
    else kept.length = 0;
    if (reportRoom > 0) {
      const part = chunk.subarray(0, reportRoom);
      report.push(part);
      reportRoom -= part.length;
      budget.reportBytes += part.length;
    }
  }
  a.release();
  const meta = { filename: a.filename, contentType, size, kept: keeping };
  if (keeping) {
    budget.count += 1;
    budget.bytes += size;
    return { ...meta, content: Buffer.concat(kept, size) };
  }
  return report.length > 0 ? { ...meta, reportHead: Buffer.concat(report) } : meta;
}

/**
 * Parses the stream. Rejects with Unreadable, its message the reason, for what the bytes say (too
 * large, too deep, what the parser could not read); an error of the source itself (the database)
 * is rethrown as it is, so the caller retries rather than gives up on the message.
 */
export async function readMessage(source: Readable, limits: ReadLimits): Promise<ReadMessage> {
  let sourceError: unknown;
  source.once('error', (err) => (sourceError ??= err));
  const gate = new Gate(limits);
  const parser = new MailParser({
    skipHtmlToText: true,
    skipImageLinks: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    keepDeliveryStatus: true,
  });
  let headers: Headers = new Map();
  let headerLines: HeaderLines = [];
  parser.on('headers', (h: Headers) => (headers = h));
  parser.on('headerLines', (lines: HeaderLines) => (headerLines = lines));

  const attachments: ReadAttachment[] = [];
  const budget = { count: 0, bytes: 0, reportBytes: 0 };
  let text: MessageText | undefined;
  const collect = async () => {
    for await (const data of parser as AsyncIterable<AttachmentStream | MessageText>) {
      if (data.type === 'attachment') attachments.push(await readAttachment(data, budget, limits));
      else text = data;
    }
  };
  try {
    await Promise.all([pipeline(source, gate, parser), collect()]);
  } catch (err) {
    if (sourceError !== undefined) throw sourceError;
    if (err instanceof Unreadable) throw err;
    throw new Unreadable(reasonFor(err), { cause: err });
  }
  // Assigned in collect(), which TypeScript's narrowing does not follow.
  const t = text as MessageText | undefined;
  return {
    headers,
    headerLines,
    text: t?.text,
    html: typeof t?.html === 'string' ? t.html : undefined,
    attachments,
    head: gate.head,
  };
}

/** A parser error as a reason staff can read. */
function reasonFor(err: unknown): string {
  const message =
    (err instanceof Error ? err.message : String(err))
      .replace(/\s*[\r\n]+\s*/g, ' ')
      .trim()
      .slice(0, 200) || 'unknown error';
  if (/child nodes/i.test(message)) return 'too many MIME parts';
  if (/header size/i.test(message)) return 'header too large';
  return `unparseable: ${message}`;
}
