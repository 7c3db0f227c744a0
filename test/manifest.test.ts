/** manifest.yml is valid for Slack and says exactly what handlers/ registers. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { registerHandlers, type HandlerDeps, type Registrar } from '../handlers/index.js';
import { describeWithShared, sharedPath } from './support/shared-data.js';

const root = process.cwd();
const isUrl = (s: string) => URL.canParse(s);
const compileSchema = (schema: Record<string, unknown>) =>
  new Ajv({ strict: false, allErrors: true, formats: { uri: isUrl } }).compile(schema);
const manifest = parse(fs.readFileSync(path.join(root, 'manifest.yml'), 'utf8')) as {
  features: { slash_commands?: { command: string; url?: string }[] };
  settings: {
    event_subscriptions?: { bot_events?: string[] };
    interactivity?: { is_enabled: boolean; message_menu_options_url?: string };
  };
};

/** Records what registerHandlers asks of Bolt, without a Bolt app. */
function recordRegistrations() {
  const seen = {
    commands: [] as string[],
    actions: [] as string[],
    views: [] as string[],
    events: [] as string[],
    options: [] as string[],
    shortcuts: [] as string[],
  };
  const name = (x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x));
  const recorder = {
    command: (c: unknown) => void seen.commands.push(name(c)),
    action: (a: unknown) => void seen.actions.push(name(a)),
    view: (v: unknown) => void seen.views.push(name(v)),
    event: (e: unknown) => void seen.events.push(name(e)),
    options: (o: unknown) => void seen.options.push(name(o)),
    shortcut: (s: unknown) => void seen.shortcuts.push(name(s)),
  } as unknown as Registrar;
  registerHandlers(recorder, {} as HandlerDeps);
  return seen;
}

/** Slack's published schema (MIT, in ../shared/slack): third-party data, so not kept in this repository. */
const SCHEMA = sharedPath('slack', 'schemas', 'manifest.schema.1.0.0.json');

describeWithShared(SCHEMA, "manifest.yml was not validated against Slack's manifest schema (../shared/slack/schemas)")(
  'manifest.yml against Slack’s schema',
  () => {
    it('when validated against Slack manifest schema 1.0.0, then it has no errors', () => {
      const schema = JSON.parse(fs.readFileSync(SCHEMA!, 'utf8')) as Record<string, unknown>;
      delete schema.$schema;
      const validate = compileSchema(schema);
      const valid = validate(manifest);
      expect(validate.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
    });

    it('when a required field is removed, then the schema check fails (the check can fail)', () => {
      const schema = JSON.parse(fs.readFileSync(SCHEMA!, 'utf8')) as Record<string, unknown>;
      delete schema.$schema;
      const validate = compileSchema(schema);
      expect(validate({ ...manifest, display_information: undefined })).toBe(false);
    });
  },
);

describe('manifest.yml', () => {
  it('when handlers are registered, then the slash commands are exactly the manifest commands', () => {
    const seen = recordRegistrations();
    expect([...seen.commands].sort()).toEqual((manifest.features.slash_commands ?? []).map((c) => c.command).sort());
  });

  it('when handlers are registered, then the bot events are exactly the manifest events', () => {
    const seen = recordRegistrations();
    expect([...new Set(seen.events)].sort()).toEqual(
      [...(manifest.settings.event_subscriptions?.bot_events ?? [])].sort(),
    );
  });

  it('when handlers listen to actions or views, then interactivity is on (and options need an options URL)', () => {
    const seen = recordRegistrations();
    expect(manifest.settings.interactivity?.is_enabled ?? false).toBe(
      seen.actions.length + seen.views.length + seen.shortcuts.length > 0,
    );
    expect(Boolean(manifest.settings.interactivity?.message_menu_options_url)).toBe(seen.options.length > 0);
  });

  it('when Slack calls the app, then every request URL points at /slack/events', () => {
    const urls = [
      ...(manifest.features.slash_commands ?? []).map((c) => c.url),
      (manifest.settings as { event_subscriptions?: { request_url?: string } }).event_subscriptions?.request_url,
      (manifest.settings.interactivity as { request_url?: string } | undefined)?.request_url,
    ];
    for (const url of urls) expect(new URL(String(url)).pathname).toBe('/slack/events');
  });
});
