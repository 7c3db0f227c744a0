/**
 * Deepest multipart nesting, counted from boundary declarations and delimiter lines without
 * parsing, so a hostile message is refused before the parser walks it. It reads the message in
 * pieces as they arrive: text is scanned once a full line follows it (a boundary parameter may be
 * folded onto the next line), and only the unscanned tail is kept, so memory stays small whatever
 * the message's size. Split anywhere, the bytes give the count a single pass gives, except in
 * lines longer than LONG_LINE, where a boundary parameter cut by the split may be missed.
 */
const PATTERN = /^--([^\r\n]+)|boundary\s*=\s*(?:"([^"\r\n]+)"|([^\s;"]+))/gim;
/** Past this many characters without a line break the tail is scanned anyway, keeping TAIL. */
const LONG_LINE = 64 * 1024;
const TAIL = 1024;
/** Stands for "not at a line start" before a kept tail cut out of a long line; matches nothing. */
const SENTINEL = '\u0001';

export class MimeDepthCounter {
  /** Deepest nesting seen so far; counting stops once it passes the limit. */
  max = 0;
  private readonly depthOf = new Map<string, number>();
  private current = 0;
  private carry = '';
  /** Offset in the whole message of carry[0]. */
  private base = 0;
  /** Offset up to which the text has been matched: a match never starts inside an earlier one. */
  private matchedUntil = 0;

  constructor(private readonly limit: number) {}

  get exceeded(): boolean {
    return this.max > this.limit;
  }

  push(chunk: Buffer): void {
    if (this.exceeded) return;
    const text = this.carry + chunk.toString('latin1');
    const lastBreak = text.lastIndexOf('\n');
    // The last complete line waits for the line after it; so does the incomplete one.
    let keepFrom = lastBreak <= 0 ? 0 : text.lastIndexOf('\n', lastBreak - 1) + 1;
    if (text.length - keepFrom > LONG_LINE) keepFrom = text.length - TAIL;
    this.scan(text, keepFrom);
    // A bare CR ends a line for `^` as well; anything else does not, and the sentinel says so.
    if (keepFrom > 0 && text[keepFrom - 1] !== '\n' && text[keepFrom - 1] !== '\r') {
      this.carry = SENTINEL + text.slice(keepFrom);
      this.base += keepFrom - 1;
    } else {
      this.carry = text.slice(keepFrom);
      this.base += keepFrom;
    }
  }

  /** The count once every byte has been pushed. */
  end(): number {
    if (!this.exceeded) this.scan(this.carry, Number.POSITIVE_INFINITY);
    this.carry = '';
    return this.max;
  }

  private scan(text: string, before: number): void {
    for (const m of text.matchAll(PATTERN)) {
      if (m.index >= before) break;
      if (this.base + m.index < this.matchedUntil) continue;
      this.matchedUntil = this.base + m.index + m[0].length;
      this.count(m);
      if (this.exceeded) return;
    }
  }

  private count(m: RegExpMatchArray): void {
    const declared = m[2] ?? m[3];
    if (declared !== undefined) {
      if (!this.depthOf.has(declared)) {
        this.depthOf.set(declared, this.current + 1);
        this.max = Math.max(this.max, this.current + 1);
      }
      return;
    }
    const delimiter = (m[1] ?? '').trimEnd();
    const closing = delimiter.endsWith('--') ? this.depthOf.get(delimiter.slice(0, -2)) : undefined;
    if (closing !== undefined) this.current = closing - 1;
    else this.current = this.depthOf.get(delimiter) ?? this.current;
  }
}

/** The nesting depth of a whole message; stops counting past `limit`. */
export function mimeDepth(raw: Buffer, limit: number): number {
  const counter = new MimeDepthCounter(limit);
  counter.push(raw);
  return counter.end();
}
