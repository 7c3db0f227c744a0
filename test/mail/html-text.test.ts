import { describe, expect, it } from '@jest/globals';
import { htmlAsText, looksLikeHtml } from '../../src/mail/html-text.js';
import { parseMail } from '../../src/mail/parse.js';
import { rawMail } from './build-mail.js';

describe('htmlAsText', () => {
  it('when HTML has paragraphs, lists, links and entities, then they become readable text', () => {
    const html =
      '<p>Hello&nbsp;team &amp; co,</p><ul><li>one</li><li>two</li></ul>' +
      '<p>See <a href="https://status.example.com/x">the status page</a> or <a href="mailto:help@example.com">help@example.com</a>&#33;</p>';
    expect(htmlAsText(html)).toBe(
      'Hello team & co,\n\n- one\n- two\n\nSee the status page [https://status.example.com/x] or help@example.com!',
    );
  });

  it('when HTML quotes an earlier message, then the quote becomes "> " lines', () => {
    const html =
      '<div>Yes please.</div><div>On Mon, 6 May 2024, Billing &lt;billing@example.com&gt; wrote:</div><blockquote><p>Which tier?</p></blockquote>';
    expect(htmlAsText(html)).toBe(
      'Yes please.\nOn Mon, 6 May 2024, Billing <billing@example.com> wrote:\n> Which tier?',
    );
  });

  it('when HTML is broken (unclosed tags, stray brackets, scripts without end), then it still ends with text and no markup', () => {
    expect(htmlAsText('<p>a < b and <b>c')).toBe('a < b and c');
    expect(htmlAsText('<div>kept<script>var x = "<p>";')).toBe('kept');
    expect(htmlAsText('<!-- never closed')).toBe('');
  });

  it('when HTML names accented letters and writes CJK as character references, then they come out as the letters', () => {
    const html =
      '<p>Le re&ccedil;u de d&eacute;cembre est erron&eacute;&nbsp;: &laquo;&nbsp;&Uuml;bersicht&nbsp;&raquo; &amp; &euro;42 &mdash; Gr&uuml;&szlig;e</p>' +
      '<p>&#26085;&#26412;&#35486;&#12398;&#x8ACB;&#x6C42;&#x66F8; 中文邮件 한국어</p>';
    expect(htmlAsText(html)).toBe(
      'Le reçu de décembre est erroné : « Übersicht » & €42 — Grüße\n\n日本語の請求書 中文邮件 한국어',
    );
  });

  it('when an entity is unknown or a reference is out of range, then the text stays and the reference becomes U+FFFD', () => {
    expect(htmlAsText('<p>x &#xFFFFFFFF; y &bogus; z</p>')).toBe('x \uFFFD y &bogus; z');
    expect(htmlAsText('<a href="https://a.test/?a=1&amp;b=2">here</a>')).toBe('here [https://a.test/?a=1&b=2]');
  });

  it('when a sender nests a hundred thousand tags, then rendering stays fast', () => {
    const started = Date.now();
    expect(htmlAsText(`${'<div>'.repeat(100_000)}deep${'</div>'.repeat(100_000)}`)).toBe('deep');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('when text only mentions tags, then it is not mistaken for an HTML document', () => {
    expect(looksLikeHtml('Use <b> for bold')).toBe(false);
    expect(looksLikeHtml('  <!DOCTYPE html><html>')).toBe(true);
  });
});

describe('HTML-only replies', () => {
  it('when a reply comes as HTML only, then replyText is the answer without the quoted message', async () => {
    const html =
      '<div dir="ltr">Upgrade us to 50k please.</div><br><div class="gmail_quote">On Mon, 6 May 2024 at 10:00, Billing &lt;billing@example.com&gt; wrote:<br><blockquote>Which tier would you like?</blockquote></div>';
    const result = await parseMail(rawMail({ 'Content-Type': 'text/html; charset=utf-8' }, html));
    expect(result.ok && result.mail.replyText).toBe('Upgrade us to 50k please.');
  });
});
