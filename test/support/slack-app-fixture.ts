/**
 * The usual setup of a test file: a fake Slack Web API and the app pointed at it, started once for
 * the file and stopped after it; the fake's record is cleared before each test.
 */
import { afterAll, beforeAll, beforeEach } from '@jest/globals';
import { startFakeSlack, type FakeSlack } from './fake-slack.js';
import { startTestApp, type TestApp } from './test-app.js';

export interface SlackAppContext {
  slack: FakeSlack;
  t: TestApp;
}

/** `bind` receives the started pair, e.g. `useSlackApp((c) => ({ slack, t } = c));`. */
export function useSlackApp(bind: (ctx: SlackAppContext) => void, opts: { env?: Record<string, string> } = {}): void {
  let ctx: SlackAppContext | undefined;
  beforeAll(async () => {
    const slack = await startFakeSlack();
    ctx = { slack, t: await startTestApp({ slack, ...opts }) };
    bind(ctx);
  });
  afterAll(async () => {
    await ctx?.t.stop();
    await ctx?.slack.close();
  });
  beforeEach(() => ctx?.slack.reset());
}
