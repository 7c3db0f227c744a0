/**
 * Cuts a customer's reply down to what they newly wrote: the quoted previous message, the
 * "On … wrote:" line that introduces it, forwarded/Outlook header blocks and signatures go.
 *
 * Three layouts are told apart, because the same quote means different things in each:
 * - top-posting (text, then the old message): everything from the first header is cut;
 * - bottom-posting (header and quote first, answer below): the leading header and quote go;
 * - inline answers (text, header, quote, more text): only the header line goes, the quote
 *   stays because the answer refers to it.
 */

// "wrote:" in the languages mail clients localise it to. The verb may be followed by a date
// ("schrieb am Fr., 28. Apr. 2017 um 11:53 Uhr:") or by the name ("skrev Jeff <j@x.example>:").
const VERB =
  'wrote|writes|schrieb|a [ée]crit|ha scritto|escribi[óo]|escreveu|geschreven|schreef|skrev|' +
  'napisa[łl]\\(a\\)|napisa[łl]a?|napsal\\(a\\)|napsal|написал\\(а\\)|написала?|пише|писал|' +
  '写道|寫道|書きました|kirjoitti|írta|yazdı|έγραψε|a scris';
const verbEnd = (gap: number) => new RegExp(`(?:${VERB}).{0,${gap}}[:：]$`, 'iu');
const VERB_END_NEAR = verbEnd(45);
const VERB_END_FAR = verbEnd(120);
// Zoho: "---- On Tue, 22 Dec 2015 … wrote ----"
const VERB_DASHES = /\bwrote\s*-{2,}$/i;
// Words that open an attribution line ("On …", "Le …", "Am …"), or a leading date.
const STRONG_START = /^(?:-{2,}\s*)?(?:(?:On|Am|Le|El|Em|Op|Il|Den|Dnia|W dniu|At|Dne|Στις)\s|[在於]|\d)/u;
// Gmail in some locales: "2016-03-03 17:21 GMT+01:00 Some One <some@one.example>:"
const ISO_DATE_START = /^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b/;

const FORWARD_MARKER = new RegExp(
  '^[\\s*_]*-{2,}\\s*(?:original message|forwarded message|mensaje original|mensaje reenviado|' +
    'ursprüngliche nachricht|weitergeleitete nachricht|message d.origine|message transféré|' +
    'messaggio originale|messaggio inoltrato|oorspronkelijk bericht|doorgestuurd bericht|' +
    'ursprungligt meddelande|vidarebefordrat meddelande|oprindelig meddelelse|opprinnelig melding|' +
    'alkuperäinen viesti|wiadomość oryginalna|исходное сообщение|пересылаемое сообщение|' +
    'mensagem original|mensagem encaminhada)\\s*-{2,}[\\s*_]*$',
  'iu',
);
const FORWARD_INTRO =
  /^(?:begin forwarded message|anfang der weitergeleiteten nachricht|début du message réexpédié|inicio del mensaje reenviado|messaggio inoltrato)\s*:?$/iu;

const FROM_KEYS = 'from|de|von|van|da|fra|från|od|от|lähettäjä|feladó|kimden|από|发件人|寄件者';
const OTHER_KEYS =
  'sent|date|to|subject|cc|bcc|reply-to|enviado|envoyé|gesendet|verzonden|inviato|sendt|skickat|' +
  'wysłano|отправлено|datum|data|fecha|dato|an|aan|à|a|para|til|till|do|кому|betreff|objet|' +
  'onderwerp|oggetto|asunto|assunto|emne|ämne|temat|тема|aihe|risposta|antwort an|répondre à|' +
  'responder a|kopie|发送时间|收件人|主题|日期';
const keyLine = (keys: string): RegExp => new RegExp(`^[*_\\s]*(?:${keys})\\s*[*_]*\\s*[:：]`, 'iu');
const FROM_LINE = keyLine(FROM_KEYS);
const OTHER_LINE = keyLine(OTHER_KEYS);

// Supercite-style initials ("JD>") count as quoting too; longer words before ">" do not.
const QUOTE = /^\s*(?:[A-Z]{1,3})?>/;
const SIGNATURE_DELIMITER = /^(?:--|_{3,}|—)\s*$/;
const MOBILE_SIGNATURE = new RegExp(
  [
    '^[\\s(<]*sent (?:from|via|with|by|using)\\b',
    '^(?:get|download) (?:\\[?outlook|the outlook)',
    '^envoy[ée] (?:de|depuis) (?:mon|ma)\\b',
    '^von meine[mr]? .*gesendet',
    '^diese nachricht wurde von meinem .*gesendet',
    '^(?:verzonden|verstuurd) (?:met|vanaf|van)\\b',
    '^(?:sendt|skickat|lähetetty) (?:fra|från|from)\\b',
    '^enviado (?:desde|de|do) (?:mi|meu|o meu)\\b',
    '^inviato da\\b',
    '^wysłane z\\b',
    '^отправлено с\\b',
    '^(?:從|从)我的.*(?:傳送|发送)',
    'から送信$',
    '^(?:\\S+ )?from (?:my )?(?:mobile|phone|iphone|ipad|android|cell)\\b',
  ].join('|'),
  'iu',
);
const SENTENCE_END = /[.!?]$/;

type Span = { start: number; end: number };

export function trimReply(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const firstContent = lines.findIndex((l) => !isBlank(l));
  if (firstContent < 0) return '';
  const keep = lines.map(() => true);
  const headers = findHeaders(lines);
  const [first, ...later] = headers;

  const bottomPosted = first !== undefined && first.start === firstContent;
  if (bottomPosted) {
    drop(keep, 0, skipQuoteBlock(lines, first.end + 1));
    for (const h of later) drop(keep, h.start, h.end + 1);
  }
  cutAtSignatureDelimiter(lines, keep);
  if (!bottomPosted) cutAtPreviousMessage(lines, keep, headers);

  const kept = dropTrailingNoise(lines, keep);
  return lines
    .filter((_, i) => kept[i])
    .join('\n')
    .replace(/^\s*\n/, '')
    .trimEnd();
}

/** Top-posting: cut at the first header, unless the text below it answers its quote inline. */
function cutAtPreviousMessage(lines: string[], keep: boolean[], headers: Span[]): void {
  for (const h of headers) {
    if (!keep[h.start]) return;
    if (!isInlineAnswer(lines, keep, h)) {
      drop(keep, h.start, lines.length);
      return;
    }
    drop(keep, h.start, h.end + 1);
  }
}

function isBlank(line: string): boolean {
  return line.trim() === '';
}

function isQuote(line: string): boolean {
  return QUOTE.test(line);
}

function unquote(line: string): string {
  return line.replace(/^(?:\s*(?:[A-Z]{1,3})?>)+\s?/, '');
}

function collapse(lines: string[]): string {
  return lines
    .map((l) => l.replace(/\u00a0/g, ' ').trim())
    .filter((l) => l !== '')
    .join(' ');
}

function drop(keep: boolean[], from: number, to: number): void {
  for (let i = from; i < to && i < keep.length; i++) keep[i] = false;
}

function skipQuoteBlock(lines: string[], from: number): number {
  let i = from;
  while (i < lines.length && isBlank(lines[i] ?? '')) i++;
  if (i >= lines.length || !isQuote(lines[i] ?? '')) return from;
  while (i < lines.length && (isQuote(lines[i] ?? '') || isBlank(lines[i] ?? ''))) i++;
  return i;
}

/** Every header-like block (attribution line, forward marker, Outlook block), in order. */
function findHeaders(lines: string[]): Span[] {
  const spans: Span[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (isQuote(line)) {
      let end = i;
      while (end + 1 < lines.length && isQuote(lines[end + 1] ?? '')) end++;
      const inner = lines.slice(i, end + 1).map(unquote);
      const first = inner.findIndex((l) => !isBlank(l));
      const headerEnd = first < 0 ? -1 : headerEndAt(inner, first);
      if (headerEnd >= 0) spans.push({ start: i, end: i + headerEnd });
      i = end + 1;
      continue;
    }
    const end = headerEndAt(lines, i);
    if (end >= 0) {
      spans.push({ start: i, end });
      i = end + 1;
    } else {
      i++;
    }
  }
  return spans;
}

/** Index of the last line of a header starting at line i, or -1. */
function headerEndAt(lines: string[], i: number): number {
  const line = (lines[i] ?? '').trim();
  if (line === '') return -1;
  if (FORWARD_MARKER.test(line) || FORWARD_INTRO.test(line)) return blockEnd(lines, i);
  if (FROM_LINE.test(line) && isOutlookBlock(lines, i)) return blockEnd(lines, i);
  if (ISO_DATE_START.test(line)) {
    const end = isoDateHeaderEnd(lines, i);
    if (end >= 0) return end;
  }
  return attributionEnd(lines, i);
}

function blockEnd(lines: string[], i: number): number {
  let end = i;
  while (end + 1 < lines.length && !isBlank(lines[end + 1] ?? '') && end - i < 12) end++;
  return end;
}

function isOutlookBlock(lines: string[], i: number): boolean {
  let others = 0;
  for (let j = i + 1; j < lines.length && j <= i + 8; j++) {
    const l = lines[j] ?? '';
    if (OTHER_LINE.test(l)) others++;
    else if (isBlank(l) && others > 0) break;
  }
  return others >= 2;
}

function isoDateHeaderEnd(lines: string[], i: number): number {
  const line = (lines[i] ?? '').trim();
  const next = (lines[i + 1] ?? '').trim();
  const wrapped = line.endsWith('<') || /^\S*@\S*>:?$/.test(next);
  const joined = wrapped ? `${line} ${next}` : line;
  if (/\bGMT\b/.test(joined) || /<[^<>]*@[^<>]*>:?$/.test(joined) || looksLikeAttribution(joined)) {
    return wrapped ? i + 1 : i;
  }
  return -1;
}

function looksLikeAttribution(joined: string, verbEnd = VERB_END_FAR): boolean {
  return (verbEnd.test(joined) || VERB_DASHES.test(joined)) && /[\d@]/.test(joined) && joined.length <= 300;
}

// Without an opening word, ordinary prose ("our CFO wrote to billing@… last week:") would
// pass, so a name-first attribution needs the verb at its end and an <address> or a time,
// unless a quote follows it.
function looksLikeNameFirstAttribution(joined: string, quoteFollows: boolean): boolean {
  if (!looksLikeAttribution(joined, VERB_END_NEAR)) return false;
  return quoteFollows || /<[^<>\s]+@[^<>\s]+>|\d{1,2}:\d{2}/.test(joined);
}

/**
 * "On <date>, <name> wrote:" possibly wrapped over a few lines by the sender's client.
 * A block opened by a known word ("On", "Le", a date) may span up to six lines; any other
 * block (name first: "Bob <bob@example.com> wrote:") at most three, and is taken as short
 * as possible so that a line of the answer just above is not swallowed.
 */
function attributionEnd(lines: string[], i: number): number {
  const first = (lines[i] ?? '').trim();
  if (STRONG_START.test(first)) {
    for (let j = i; j < lines.length && j <= i + 5; j++) {
      if (j > i + 1 && SENTENCE_END.test((lines[j - 1] ?? '').trim())) break;
      if (j > i && SENTENCE_END.test(first)) break;
      const joined = collapse(lines.slice(i, j + 1));
      if (joined.length > 300) break;
      if (looksLikeAttribution(joined)) return j;
    }
    return -1;
  }
  for (let j = i; j < lines.length && j <= i + 2; j++) {
    if (j > i && isBlank(lines[j] ?? '')) break;
    const next = nextContent(lines, j + 1);
    const quoteFollows = next >= 0 && isQuote(lines[next] ?? '');
    if (!looksLikeNameFirstAttribution(collapse(lines.slice(i, j + 1)), quoteFollows)) continue;
    for (let k = i + 1; k <= j; k++) {
      if (looksLikeNameFirstAttribution(collapse(lines.slice(k, j + 1)), quoteFollows)) return -1;
    }
    return j;
  }
  return -1;
}

/** A header followed by its quote and then more of the sender's own text. */
function isInlineAnswer(lines: string[], keep: boolean[], s: Span): boolean {
  const afterQuote = skipQuoteBlock(lines, s.end + 1);
  // nothing quoted after the header: the old message follows unquoted
  if (afterQuote === s.end + 1) return false;
  const next = nextContent(lines, afterQuote);
  return next >= 0 && keep[next] === true && !isQuote(lines[next] ?? '') && headerEndAt(lines, next) < 0;
}

function nextContent(lines: string[], from: number): number {
  for (let i = from; i < lines.length; i++) if (!isBlank(lines[i] ?? '')) return i;
  return -1;
}

function cutAtSignatureDelimiter(lines: string[], keep: boolean[]): void {
  let seenText = false;
  for (let i = 0; i < lines.length; i++) {
    if (!keep[i]) continue;
    const line = lines[i] ?? '';
    if (seenText && SIGNATURE_DELIMITER.test(line.trimEnd())) {
      drop(keep, i, lines.length);
      return;
    }
    if (!isBlank(line) && !isQuote(line)) seenText = true;
  }
}

/**
 * Below the answer: quotes of the old message, phone signatures, separator lines and stray
 * marks such as the tracking dot some mail add-ons append. Removed only while some text of
 * the sender's own stays above them.
 */
function dropTrailingNoise(lines: string[], keep: boolean[]): boolean[] {
  const out = [...keep];
  const firstOwn = lines.findIndex((l, k) => out[k] && !isBlank(l) && !isQuote(l) && !isNoise(l));
  if (firstOwn < 0) return out;
  for (let i = lines.length - 1; i > firstOwn; i--) {
    if (!out[i]) continue;
    const line = lines[i] ?? '';
    if (!isBlank(line) && !isQuote(line) && !isNoise(line)) break;
    out[i] = false;
  }
  return out;
}

function isNoise(line: string): boolean {
  const t = line.trim();
  if (!/[\p{L}\p{N}]/u.test(t)) return true;
  if (t.length <= 2 && [...t].length === 1 && !/[A-Za-z0-9]/.test(t)) return true;
  return t.length <= 120 && MOBILE_SIGNATURE.test(t);
}
