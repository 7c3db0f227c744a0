/**
 * Every message of the shared email corpus (../shared/corpus/email/README.md) goes through the
 * inbound pipeline's pure part: each must end parsed and classified, or refused with a reason.
 * Without ../shared it is skipped; test/mail/fixtures.test.ts covers each class of mail with the
 * project's own messages.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, expect, it } from '@jest/globals';
import { classifyInbound, shouldAutoReply, type InboundClass } from '../../src/mail/loop-guard.js';
import { parseMail } from '../../src/mail/parse.js';
import { describeWithShared, sharedPath } from '../support/shared-data.js';

const CORPUS = sharedPath('corpus', 'email');
// Floors reached when this test was written (605/629 and 2/3); see the report in the test output.
const BOUNCE_FLOOR = 0.95;
const NOT_BOUNCE_FLOOR = 0.66;

type Outcome = { file: string; size: number; result: InboundClass | { reason: string }; autoReply: boolean };

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

const outcomes: Outcome[] = [];
const inFolder = (folder: string) => outcomes.filter((o) => o.file.startsWith(`${folder}/`));
const fraction = (list: Outcome[], kind: InboundClass) => list.filter((o) => o.result === kind).length / list.length;

describeWithShared(CORPUS, 'the public email corpus (../shared/corpus/email) was not parsed')(
  'the email corpus',
  () => {
    beforeAll(async () => {
      for (const full of walk(CORPUS!).sort()) {
        const raw = readFileSync(full);
        const parsed = await parseMail(raw);
        const file = path.relative(CORPUS!, full).split(path.sep).join('/');
        outcomes.push(
          parsed.ok
            ? {
                file,
                size: raw.length,
                result: classifyInbound(parsed.mail),
                autoReply: shouldAutoReply(parsed.mail, ['support@example.com']).ok,
              }
            : { file, size: raw.length, result: { reason: parsed.reason }, autoReply: false },
        );
      }
      const bounces = inFolder('sisimai/bounces');
      const notBounces = inFolder('sisimai/not-bounces');
      process.stderr.write(
        `corpus: ${outcomes.length} files, ${outcomes.filter((o) => typeof o.result === 'object').length} refused; ` +
          `sisimai/bounces classified bounce ${bounces.filter((o) => o.result === 'bounce').length}/${bounces.length}, ` +
          `auto-reply ${bounces.filter((o) => o.result === 'auto-reply').length}; ` +
          `sisimai/not-bounces classified normal ${notBounces.filter((o) => o.result === 'normal').length}/${notBounces.length}\n`,
      );
      // Parsing 950 files takes about 10 s idle and several times that beside a CPU hog.
    }, 180_000);

    it('when every file is parsed, then each ends classified or refused with a reason', () => {
      expect(outcomes.length).toBeGreaterThan(900);
      for (const o of outcomes) {
        if (typeof o.result === 'object') expect(o.result.reason).toMatch(/\S/);
        else expect(['bounce', 'auto-reply', 'normal']).toContain(o.result);
      }
    });

    it('when a corpus file is refused, then it is because it is empty (every real message parses)', () => {
      const refused = outcomes.filter((o) => typeof o.result === 'object');
      expect(refused.map((o) => [o.file, o.size])).toEqual(refused.map((o) => [o.file, 0]));
    });

    it('when sisimai bounces are classified, then nearly all are bounces', () => {
      expect(inFolder('sisimai/bounces').length).toBeGreaterThan(600);
      expect(fraction(inFolder('sisimai/bounces'), 'bounce')).toBeGreaterThanOrEqual(BOUNCE_FLOOR);
    });

    it('when sisimai look-alikes that are not bounces are classified, then most are normal mail', () => {
      expect(fraction(inFolder('sisimai/not-bounces'), 'normal')).toBeGreaterThanOrEqual(NOT_BOUNCE_FLOOR);
    });

    it('when the mail gem multipart/report samples are classified, then all are bounces', () => {
      const reports = inFolder('mail-gem/multipart_report_emails');
      expect(reports.length).toBeGreaterThan(0);
      expect(reports.filter((o) => o.result !== 'bounce')).toEqual([]);
    });

    it('when reply bodies from the trimmer fixtures are classified, then none is a bounce', () => {
      expect(inFolder('reply-trimmer/emails').filter((o) => o.result === 'bounce')).toEqual([]);
    });

    it('when a message is a bounce or an auto-reply, then it never gets an auto-reply', () => {
      expect(outcomes.filter((o) => (o.result === 'bounce' || o.result === 'auto-reply') && o.autoReply)).toEqual([]);
    });
  },
);
