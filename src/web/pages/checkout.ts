/**
 * Between "Pay by card" and the payment provider's page. The form posts to us and we send the
 * browser on from here, with a link that works without script: the CSP's form-action stays 'self'
 * (a form's redirect to another site would need it widened), and no referrer goes with it.
 */
import { html } from '../html.js';
import { layout } from './layout.js';

export function checkoutPage(o: { url: string; back: string }): string {
  return layout({
    title: 'Continue to the secure payment page',
    body: html`<main id="main">
<h1>Continue to the secure payment page</h1>
<p>Your card payment is ready. You will come back to your migration page afterwards.</p>
<p><a id="continue" href="${o.url}" rel="noreferrer noopener">Continue to payment</a></p>
<p><a href="${o.back}">Back to your migration page</a></p>
</main>`,
  }).replace('</head>', html`<meta http-equiv="refresh" content="0;url=${o.url}">\n</head>`.value);
}
