/**
 * What a link that does not open the page gets: one plain page saying why, and nothing else (no
 * ticket, no name), so a guessed or forwarded token learns nothing.
 */
import { html } from '../html.js';
import { layout } from './layout.js';

const WORDS = {
  invalid: {
    title: 'This link does not work',
    text: 'This link is not valid. Please use the link in the most recent email about your migration.',
  },
  expired: {
    title: 'This link has expired',
    text: 'This link has expired. Please use the link in the most recent email about your migration, or reply to that email and we will send you a new one.',
  },
  replaced: {
    title: 'This link was replaced',
    text: 'This link was replaced; use the newest email about your migration, which has the current link.',
  },
  notFound: { title: 'Page not found', text: 'There is nothing at this address.' },
  limited: { title: 'Too many requests', text: 'Too many requests from here. Please wait a minute and try again.' },
  unreadable: { title: 'That request could not be read', text: 'Please go back to your migration page and try again.' },
  error: {
    title: 'Something went wrong',
    text: 'Something went wrong on our side; it has been logged. Please try again in a minute.',
  },
  forbidden: {
    title: 'This form has expired',
    text: 'This form was not sent from your migration page, or it has expired. Please go back to the page from your email and try again.',
  },
} as const;

export type RefusalKind = keyof typeof WORDS;

export function refusalPage(kind: RefusalKind): string {
  const w = WORDS[kind];
  return layout({ title: w.title, body: html`<main id="main"><h1>${w.title}</h1><p>${w.text}</p></main>` });
}

/** A step the customer tried that the server refused (bad input, a failed payment): why, and the way back. */
export function problemPage(o: { title: string; text: string; back?: string | undefined }): string {
  return layout({
    title: o.title,
    body: html`<main id="main"><h1>${o.title}</h1><p role="alert">${o.text}</p>${o.back ? html`<p><a href="${o.back}">Back to your migration page</a></p>` : ''}<p>Nothing was changed.</p></main>`,
  });
}
