import { describe, expect, it } from '@jest/globals';
import { createMailQueue } from '../../src/mail/mail-queue.js';

const MB = 1_000_000;

/** Work that runs until released, recording how much runs at once. */
function tracker() {
  const releases = new Map<string, () => void>();
  const running = new Set<string>();
  const started: string[] = [];
  let mostAtOnce = 0;
  let largeBytesAtOnce = 0;
  let largeBytesNow = 0;
  return {
    job(name: string, bytes: number) {
      return () =>
        new Promise<string>((resolve) => {
          started.push(name);
          running.add(name);
          mostAtOnce = Math.max(mostAtOnce, running.size);
          if (bytes > MB) largeBytesNow += bytes;
          largeBytesAtOnce = Math.max(largeBytesAtOnce, largeBytesNow);
          releases.set(name, () => {
            running.delete(name);
            if (bytes > MB) largeBytesNow -= bytes;
            resolve(name);
          });
        });
    },
    release: (name: string) => releases.get(name)!(),
    running,
    started,
    stats: () => ({ mostAtOnce, largeBytesAtOnce }),
  };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('the mail queue', () => {
  it('when many large messages arrive at once, then they run a few at a time within the byte budget, in arrival order', async () => {
    const q = createMailQueue({ concurrency: 4, largeBytes: MB, budgetBytes: 64 * MB });
    const t = tracker();
    const names = Array.from({ length: 16 }, (_, i) => `large${i}`);
    const done = names.map((n) => q.run(24 * MB, t.job(n, 24 * MB)));
    await tick();
    expect([...t.running]).toEqual(['large0', 'large1']);
    for (const n of names) {
      await tick();
      t.release(n);
    }
    expect(await Promise.all(done)).toEqual(names);
    expect(t.started).toEqual(names);
    expect(t.stats().largeBytesAtOnce).toBeLessThanOrEqual(64 * MB);
  });

  it('when large messages wait for the budget, then small mail runs at once beside them', async () => {
    const q = createMailQueue({ concurrency: 4, largeBytes: MB, budgetBytes: 64 * MB });
    const t = tracker();
    for (let i = 0; i < 6; i += 1) void q.run(24 * MB, t.job(`large${i}`, 24 * MB));
    const small = q.run(5_000, t.job('small', 5_000));
    await tick();
    expect(t.running.has('small')).toBe(true);
    t.release('small');
    expect(await small).toBe('small');
    expect(t.running.size).toBe(2);
  });

  it('when small mail floods in, then at most `concurrency` run at once', async () => {
    const q = createMailQueue({ concurrency: 4, largeBytes: MB, budgetBytes: 64 * MB });
    const t = tracker();
    const names = Array.from({ length: 10 }, (_, i) => `small${i}`);
    const done = names.map((n) => q.run(2_000, t.job(n, 2_000)));
    for (const n of names) {
      await tick();
      t.release(n);
    }
    await Promise.all(done);
    expect(t.stats().mostAtOnce).toBe(4);
  });

  it('when a message is larger than the whole budget, then it still runs, alone in its lane', async () => {
    const q = createMailQueue({ concurrency: 4, largeBytes: MB, budgetBytes: 10 * MB });
    const t = tracker();
    const huge = q.run(40 * MB, t.job('huge', 40 * MB));
    const next = q.run(2 * MB, t.job('next', 2 * MB));
    await tick();
    expect([...t.running]).toEqual(['huge']);
    t.release('huge');
    await huge;
    await tick();
    expect([...t.running]).toEqual(['next']);
    t.release('next');
    await next;
  });

  it('when work fails, then its caller gets the error and the budget goes to the next in line', async () => {
    const q = createMailQueue({ concurrency: 4, largeBytes: MB, budgetBytes: 30 * MB });
    const failing = q.run(24 * MB, async () => {
      throw new Error('database gone');
    });
    const next = q.run(24 * MB, async () => 'ran');
    await expect(failing).rejects.toThrow('database gone');
    expect(await next).toBe('ran');
  });
});
