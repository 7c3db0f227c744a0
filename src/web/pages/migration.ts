/**
 * The customer's migration page, a pure function of the view model: the progress on top (on every
 * view), then what the customer can do now. Forms post back to the server and work without script;
 * the script only refreshes the page while the migration moves.
 */
import type { PageView } from '../../services/migration-page.js';
import type { StepState } from '../../domain/migration-journey.js';
import { html, type Html } from '../html.js';
import { layout } from './layout.js';

export interface PageContext {
  /** `/migrate/<token>`: every form and link of the page is under it. */
  base: string;
  csrf: string;
  version: string;
  /** Came back from the payment page: `paid` or `cancelled`. */
  returned?: 'paid' | 'cancelled' | undefined;
  /** Projects just confirmed here. */
  confirmed?: boolean;
}

const STATE_WORDS: Record<StepState, string> = {
  done: 'done',
  current: 'current step',
  blocked: 'blocked',
  todo: 'to come',
};

function progress(v: PageView): Html {
  return html`<header class="top" id="progress">
<h1>Your move to Enterprise</h1>
<p>Reference ${v.ref}${v.customerName ? html` · ${v.customerName}` : ''}</p>
<dl class="facts">
<dt>Enterprise plan</dt><dd>${v.enterprisePlan ?? 'Enterprise'}</dd>
<dt>Enterprise start</dt><dd>${v.enterpriseStartDate ?? 'to be agreed'}</dd>
${v.c4sCancellation ? html`<dt>Startup (C4S) plan</dt><dd>${v.c4sCancelled ? 'cancelled' : 'to be cancelled'} ${v.c4sCancellation}</dd>` : ''}
</dl>
<nav aria-label="Migration progress">
<ol class="progress">
${v.steps.map((s) => html`<li class="${s.state}"${s.step === v.current ? html` aria-current="step"` : ''} data-step="${s.step}" data-state="${s.state}">${s.label} <span class="sr">(${STATE_WORDS[s.state]})</span></li>`)}
</ol>
</nav>
</header>`;
}

const csrfField = (c: PageContext) => html`<input type="hidden" name="_csrf" value="${c.csrf}">`;

function payForm(c: PageContext, label: string, secondary = false): Html {
  return html`<form method="post" action="${c.base}/pay">${csrfField(c)}<button type="submit"${secondary ? html` class="secondary"` : ''} id="pay">${label}</button></form>`;
}

function summaryPanel(v: PageView, c: PageContext): Html {
  const s = v.summary;
  if (!s) {
    return html`<section class="panel" aria-labelledby="summary-h"><h2 id="summary-h">Billing summary</h2><p>Billing is preparing the final bill of your startup plan. It will show here, and we will email you when it is ready.</p></section>`;
  }
  if (s.outcome === 'credits') {
    return html`<section class="panel" aria-labelledby="summary-h"><h2 id="summary-h">Billing summary</h2><p>No overages on your current plan: ${s.credit ? html`your remaining credit of <strong>${s.credit}</strong> goes` : 'any remaining credit goes'} to your next invoice. There is nothing to pay.</p></section>`;
  }
  const failed = v.payment.status === 'failed';
  const paid = v.payment.status === 'succeeded';
  const stripe = v.paymentAdapter === 'stripe';
  let action: Html | string = '';
  if (paid) action = html`<p class="notice" role="status">Your payment has gone through. Thank you.</p>`;
  else if (failed) {
    action = html`<div class="alert" role="alert"><p><strong>The payment did not go through${v.payment.reason ? html`: ${v.payment.reason.replace(/[.\s]+$/, '')}` : ''}.</strong></p><p>Your migration waits until the payment succeeds.</p>${stripe && !v.payRefusal ? payForm(c, 'Try again') : html`<p>Billing will contact you about completing the payment; you can also reply to our email.</p>`}</div>`;
  } else if (s.card === 'required') {
    action =
      stripe && !v.payRefusal
        ? html`<p>Pay by card to go on with the migration.</p>${payForm(c, 'Pay by card')}`
        : html`<p>Billing will confirm your payment by email; you do not need to do anything here.</p>`;
  } else if (s.card === 'optional') {
    action = html`<p>Will be collected by eMandate; you do not need to do anything.</p>${stripe && !v.payRefusal ? payForm(c, 'Pay now by card', true) : ''}`;
  } else if (s.method === 'emandate') {
    action = html`<p>Will be collected by eMandate; you do not need to do anything.</p>`;
  }
  const pending =
    !paid && !failed && v.payment.attempt
      ? html`<p class="hint">A card payment was started; this page updates as soon as it is confirmed.</p>`
      : '';
  return html`<section class="panel" aria-labelledby="summary-h"><h2 id="summary-h">Billing summary</h2>
<p>Usage above your current plan: <strong>${s.amount}</strong> ${paid ? 'was due' : 'is due'}. Default payment method: ${s.method === 'emandate' ? 'eMandate (direct debit)' : 'card'}.</p>
${action}${pending}</section>`;
}

function projectsPanel(v: PageView, c: PageContext): Html | string {
  const p = v.projects;
  if (p.confirmed) {
    const list = (names: string[]) =>
      names.length ? html`<ul>${names.map((n) => html`<li>${n}</li>`)}</ul>` : html`<p>none</p>`;
    return html`<section class="panel" aria-labelledby="projects-h"><h2 id="projects-h">Projects to move</h2>
${c.confirmed ? html`<p class="notice" role="status">Thank you: your projects are confirmed.</p>` : ''}
<h3>Live</h3>${list(p.confirmed.live)}<h3>Test</h3>${list(p.confirmed.test)}
<p class="hint">Something missing? Reply to our email before the start date.</p></section>`;
  }
  if (p.refusal) {
    return v.summary
      ? html`<section class="panel" aria-labelledby="projects-h"><h2 id="projects-h">Projects to move</h2><p id="projects-blocked">${p.refusal}</p></section>`
      : '';
  }
  const box = (name: string, kind: 'live' | 'test', i: number) =>
    html`<label><input type="checkbox" name="${kind}" value="${name}" id="${kind}-${i}"> ${name}</label>`;
  const live = p.offered.filter((x) => x.kind === 'live');
  const test = p.offered.filter((x) => x.kind === 'test');
  return html`<section class="panel" aria-labelledby="projects-h"><h2 id="projects-h">Projects to move</h2>
<form method="post" action="${c.base}/projects" id="projects-form">${csrfField(c)}
<p>Choose the projects to move to Enterprise: at least one live project.</p>
<fieldset><legend>Live projects</legend>${live.length ? live.map((x, i) => box(x.name, 'live', i)) : html`<p class="hint">No live projects on file: add them below.</p>`}
<label for="add_live">Add live projects by name</label><p class="hint" id="add_live_hint">Separate several with commas.</p><input type="text" id="add_live" name="add_live" aria-describedby="add_live_hint" maxlength="500"></fieldset>
<fieldset><legend>Test projects</legend>${test.length ? test.map((x, i) => box(x.name, 'test', i)) : html`<p class="hint">No test projects on file.</p>`}
<label for="add_test">Add test projects by name</label><input type="text" id="add_test" name="add_test" maxlength="500"></fieldset>
<button type="submit" id="confirm-projects">Confirm projects</button>
</form></section>`;
}

function completedPanel(v: PageView): Html {
  return html`<section class="panel" aria-labelledby="done-h"><h2 id="done-h">Completed</h2>
<p class="notice" role="status">Your account is now on ${v.enterprisePlan ? html`the Enterprise plan <strong>${v.enterprisePlan}</strong>` : 'Enterprise'}.</p>
${v.accountTeam.length ? html`<h3>Your account team</h3><dl class="facts">${v.accountTeam.map((m) => html`<dt>${m.role}</dt><dd>${m.name}</dd>`)}</dl><p>They will introduce themselves shortly.</p>` : html`<p>Your account team will introduce themselves shortly.</p>`}
</section>`;
}

function stepContent(v: PageView, c: PageContext): Html {
  const returned =
    c.returned === 'paid' && v.payment.status !== 'succeeded' && v.payment.status !== 'failed'
      ? html`<p class="notice" role="status">Thank you. We are waiting for the payment to be confirmed; this page updates by itself.</p>`
      : c.returned === 'cancelled' && v.payment.status !== 'succeeded' && v.payment.status !== 'failed'
        ? html`<p class="notice" role="status">The payment was not completed. You can pay whenever you are ready.</p>`
        : '';
  if (v.completed) return html`<div id="step">${completedPanel(v)}</div>`;
  const moving =
    v.current === 'migrating'
      ? v.started
        ? html`<section class="panel" aria-labelledby="moving-h"><h2 id="moving-h">Migrating</h2><p id="moving-now">We are moving your projects to Enterprise now, with their data and settings, and will tell you by email when it is done.</p></section>`
        : html`<section class="panel" aria-labelledby="moving-h"><h2 id="moving-h">Migrating</h2><p id="moving-soon">Your projects are confirmed. We start moving them to Enterprise, with their data and settings, ${v.enterpriseStartDate ? html`on ${v.enterpriseStartDate}` : 'on the start date'}, and tell you by email when it is done.</p></section>`
      : '';
  return html`<div id="step">${returned}${moving}${summaryPanel(v, c)}${projectsPanel(v, c)}</div>`;
}

export function migrationPage(v: PageView, c: PageContext): string {
  return layout({
    title: `Your move to Enterprise (${v.ref})`,
    bodyAttrs: { 'data-status': `${c.base}/status`, 'data-version': c.version },
    script: !v.completed,
    body: html`${progress(v)}
<main id="main">
${stepContent(v, c)}
<p id="live-note" class="hint" aria-live="polite"></p>
</main>
<footer><p>Questions? Reply to any of our emails about ${v.ref}. Times are in ${v.timeZone}.</p></footer>`,
  });
}
