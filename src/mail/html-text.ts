/**
 * Plain text from an HTML mail body. mailparser's own conversion (html-to-text) is switched
 * off: on a megabyte of nested tags it spends seconds before giving up, which any sender
 * could exploit. This renderer makes one pass with indexOf, never backtracks, and keeps what
 * a ticket needs: paragraphs, list items, link targets, and quotes as "> " lines so that
 * trimReply can find them.
 */

const SKIPPED = new Set(['script', 'style', 'head', 'title', 'template', 'noscript']);
const PARAGRAPHS = new Set(['p', 'ul', 'ol', 'table', 'pre', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
const LINES = new Set(['div', 'tr', 'li', 'dt', 'dd', 'section', 'article', 'header', 'footer', 'address']);
const ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '©', reg: '®', trade: '™',
  hellip: '…', mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', euro: '€', bull: '•',
};

export function looksLikeHtml(text: string): boolean {
  const head = text.slice(0, 2000);
  return /^\s*<(?:!doctype html|html)[\s>]/i.test(head) || /<body[\s>]/i.test(head);
}

export function htmlAsText(html: string): string {
  const out = new TextLines();
  const lower = html.toLowerCase();
  let href: string | undefined;
  let anchorText = '';
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    const text = decodeEntities(html.slice(i, lt < 0 ? html.length : lt));
    out.write(text);
    if (href !== undefined) anchorText += text;
    if (lt < 0) break;
    if (!/[a-z/!?]/i.test(html[lt + 1] ?? '')) {
      // a bare "<" in text ("a < b"), not a tag
      out.write('<');
      i = lt + 1;
      continue;
    }
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      i = end < 0 ? html.length : end + 3;
      continue;
    }
    const gt = html.indexOf('>', lt + 1);
    if (gt < 0) break;
    const tagText = html.slice(lt + 1, gt);
    i = gt + 1;
    const tag = /^(\/?)([a-z][a-z0-9]*)/i.exec(tagText.slice(0, 20));
    if (!tag) continue;
    const closing = tag[1] === '/';
    const name = (tag[2] ?? '').toLowerCase();
    if (!closing && SKIPPED.has(name)) {
      const end = lower.indexOf(`</${name}`, i);
      i = end < 0 ? html.length : end;
    } else if (name === 'blockquote') {
      out.quote(closing ? -1 : 1);
    } else if (name === 'a') {
      if (!closing) {
        href = /\bhref\s*=\s*["']?((?:https?|mailto):[^"'\s>]+)/i.exec(tagText)?.[1];
        anchorText = '';
      } else if (href !== undefined) {
        const target = decodeEntities(href).replace(/^mailto:/i, '');
        if (!anchorText.includes(target)) out.write(` [${target}]`);
        href = undefined;
      }
    } else if (name === 'br') {
      out.lineBreak();
    } else if (PARAGRAPHS.has(name)) {
      out.paragraph();
    } else if (LINES.has(name)) {
      out.endLine();
      if (!closing && name === 'li') out.write('- ');
    } else if (name === 'td' || name === 'th') {
      out.write(' ');
    }
  }
  return out.toString();
}

/** Output lines; each starts with one "> " per enclosing blockquote. */
class TextLines {
  private readonly lines: { text: string; depth: number }[] = [];
  private current = '';
  private depth = 0;

  write(text: string): void {
    this.current += text.replace(/[ \t\r\n\f]+/g, ' ');
  }

  /** Ends the current line if it has any text (block boundaries never stack up). */
  endLine(): void {
    const text = this.current.replace(/\u00a0/g, ' ').trim();
    this.current = '';
    if (text !== '') this.lines.push({ text, depth: this.depth });
  }

  /** <br>: a line ends even when empty. */
  lineBreak(): void {
    if (this.current.trim() === '') this.lines.push({ text: '', depth: this.depth });
    else this.endLine();
  }

  /** One empty line between paragraphs of the same quote level. */
  paragraph(): void {
    this.endLine();
    const last = this.lines.at(-1);
    if (last && last.text !== '' && last.depth === this.depth) this.lines.push({ text: '', depth: this.depth });
  }

  quote(change: 1 | -1): void {
    this.endLine();
    this.depth = Math.max(0, this.depth + change);
  }

  toString(): string {
    this.endLine();
    return this.lines
      .map((l) => (l.text === '' ? '' : '> '.repeat(l.depth) + l.text))
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  }
}

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8});/gi, (whole, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[body.toLowerCase()] ?? whole;
  });
}
