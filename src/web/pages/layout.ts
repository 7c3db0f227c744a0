/** The frame of every customer page: language, viewport for phones, the stylesheet, a skip link. */
import { ASSETS } from '../assets.js';
import { html, type Html } from '../html.js';

export function layout(o: { title: string; body: Html; bodyAttrs?: Record<string, string>; script?: boolean }): string {
  const attrs = Object.entries(o.bodyAttrs ?? {}).map(([k, v]) => html` ${k}="${v}"`);
  return `<!doctype html>\n${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${o.title}</title>
<link rel="stylesheet" href="${ASSETS.css.path}">
</head>
<body${attrs}>
<a class="skip" href="#main">Skip to the main content</a>
${o.body}
${o.script ? html`<script src="${ASSETS.js.path}" defer></script>` : ''}
</body>
</html>`}`;
}
