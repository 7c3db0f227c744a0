/** Operator endpoints: health, readiness and Prometheus metrics that move with traffic. */
import { describe, expect, it } from '@jest/globals';
import { useSlackApp } from './support/slack-app-fixture.js';
import { slashCommand, viewSubmission } from './support/slack-requests.js';
import { eventually, USERS, type TestApp } from './support/test-app.js';
import { TICKET_NEW } from '../views/ids.js';

let t: TestApp;
useSlackApp((c) => ({ t } = c));

const metric = (text: string, name: string) => {
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').pop()) : undefined;
};

describe('operator endpoints', () => {
  it('when /healthz and /readyz are asked, then both answer 200 with the database up', async () => {
    expect((await fetch(`${t.baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('when requests are handled, then /metrics counts them by kind, times the ack, and counts tickets', async () => {
    await t.post(slashCommand({ command: '/ticket', text: 'nonsense', userId: USERS.rep, channelId: 'C0X' }));
    await t.post(
      viewSubmission({
        callbackId: TICKET_NEW.callbackId,
        userId: USERS.rep,
        viewId: 'VMETRICS',
        values: {
          kind: { type: 'static_select', selected_option: { value: 'sales' } },
          title: { type: 'plain_text_input', value: 'Metrics ticket' },
        },
      }),
    );
    // The ticket counter moves after the ack, with the ticket: wait for it rather than race it.
    const text = await eventually(async () => {
      const res = await fetch(`${t.baseUrl}/metrics`);
      expect(res.headers.get('content-type')).toMatch(/text\/plain/);
      const body = await res.text();
      return metric(body, 'tickets_created_total{source="slack",kind="sales"}') === 1 ? body : undefined;
    }, 'tickets_created_total to move');
    expect(metric(text, 'slack_requests_total{kind="command"}')).toBe(1);
    expect(metric(text, 'slack_requests_total{kind="view_submission"}')).toBe(1);
    expect(metric(text, 'slack_ack_latency_seconds_count{kind="command"}')).toBe(1);
    expect(metric(text, 'tickets_created_total{source="slack",kind="sales"}')).toBe(1);
    expect(text).toMatch(/^outbox_backlog\{channel="slack"\} \d+$/m);
  });

  it('when a path is unknown, then 404', async () => {
    expect((await fetch(`${t.baseUrl}/nope`)).status).toBe(404);
  });
});
