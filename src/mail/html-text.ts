/**
 * Plain text from an HTML mail body. mailparser's own conversion (html-to-text) is switched
 * off: it builds a whole DOM and on a megabyte of nested tags spends seconds before giving up,
 * which any sender could exploit. htmlparser2's Parser has the same flaw in another place (its
 * stack of open elements grows by unshift, so 100,000 nested <div>s took 24 s), so this file
 * drives htmlparser2's Tokenizer directly: one linear pass, no tree, no stack, and the
 * Tokenizer's entity decoder (the `entities` package) knows every named entity, so `&eacute;`
 * and `&uuml;` arrive decoded. What a ticket needs is kept: paragraphs, list items, link
 * targets, and quotes as "> " lines so that trimReply can find them.
 */
import { Tokenizer, type TokenizerCallbacks } from 'htmlparser2';

const SKIPPED = new Set(['script', 'style', 'head', 'title', 'template', 'noscript']);
const PARAGRAPHS = new Set(['p', 'ul', 'ol', 'table', 'pre', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
const LINES = new Set(['div', 'tr', 'li', 'dt', 'dd', 'section', 'article', 'header', 'footer', 'address']);
const LINK_TARGET = /^\s*((?:https?|mailto):[^"'\s>]+)/i;

export function looksLikeHtml(text: string): boolean {
  const head = text.slice(0, 2000);
  return /^\s*<(?:!doctype html|html)[\s>]/i.test(head) || /<body[\s>]/i.test(head);
}

export function htmlAsText(html: string): string {
  const out = new TextLines();
  let skipped = 0; // depth inside head, template, noscript …: their text is not the message
  let href: string | undefined;
  let anchorText = '';
  // The tag being read: its name and, for <a>, its href (the only attribute kept).
  let tagName = '';
  let attribute = '';
  let value = '';
  let tagHref: string | undefined;

  const text = (t: string) => {
    if (skipped > 0) return;
    out.write(t);
    if (href !== undefined) anchorText += t;
  };

  const tag = (name: string, closing: boolean) => {
    if (SKIPPED.has(name)) {
      // script, style and title are raw text to the Tokenizer; head and the others may hold tags.
      skipped = Math.max(0, skipped + (closing ? -1 : 1));
      return;
    }
    if (skipped > 0) return;
    if (name === 'blockquote') {
      out.quote(closing ? -1 : 1);
    } else if (name === 'a') {
      if (!closing) {
        href = tagHref;
        anchorText = '';
      } else if (href !== undefined) {
        const target = href.replace(/^mailto:/i, '');
        if (!anchorText.includes(target)) out.write(` [${target}]`);
        href = undefined;
      }
    } else if (name === 'br') {
      if (!closing) out.lineBreak();
    } else if (PARAGRAPHS.has(name)) {
      out.paragraph();
    } else if (LINES.has(name)) {
      out.endLine();
      if (!closing && name === 'li') out.write('- ');
    } else if (name === 'td' || name === 'th') {
      out.write(' ');
    }
  };

  const ignore = () => undefined;
  const callbacks: TokenizerCallbacks = {
    ontext: (start, end) => text(html.slice(start, end)),
    ontextentity: (codepoint) => text(String.fromCodePoint(codepoint)),
    onopentagname: (start, end) => {
      tagName = html.slice(start, end).toLowerCase();
      tagHref = undefined;
    },
    onattribname: (start, end) => {
      attribute = html.slice(start, end).toLowerCase();
      value = '';
    },
    onattribdata: (start, end) => {
      if (attribute === 'href') value += html.slice(start, end);
    },
    onattribentity: (codepoint) => {
      if (attribute === 'href') value += String.fromCodePoint(codepoint);
    },
    onattribend: () => {
      if (tagName === 'a' && attribute === 'href' && tagHref === undefined) tagHref = LINK_TARGET.exec(value)?.[1];
    },
    onopentagend: () => tag(tagName, false),
    onselfclosingtag: () => tag(tagName, false),
    onclosetag: (start, end) => tag(html.slice(start, end).toLowerCase(), true),
    oncomment: ignore,
    oncdata: ignore,
    ondeclaration: ignore,
    onprocessinginstruction: ignore,
    onend: ignore,
  };
  const tokenizer = new Tokenizer({ decodeEntities: true }, callbacks);
  tokenizer.write(html);
  tokenizer.end();
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
