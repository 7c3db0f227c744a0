/** JOBS_PLAN_CONCURRENCY: how many plan changes one process applies at once, and so locks per poll. */
import { afterAll, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from './support/test-app.js';
import { PLAN_APPLY_JOB } from '../src/jobs/plan-changes.js';

let t: TestApp | undefined;
afterAll(async () => t?.stop());

it('when JOBS_PLAN_CONCURRENCY is set, then plan.apply runs and locks that many at a time in this process', async () => {
  t = await startTestApp({ env: { JOBS_PLAN_CONCURRENCY: '12' } });
  const definition = (t.app.scheduler.agenda as unknown as { definitions: Record<string, { concurrency: number; lockLimit: number }> }).definitions[PLAN_APPLY_JOB];
  expect(definition).toMatchObject({ concurrency: 12, lockLimit: 12 });
});
