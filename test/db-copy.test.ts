/** `npm run db:copy`: the embedded database moves to another server with every document and index, and again changes nothing. */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose, { type Connection } from 'mongoose';
import { startEmbedded } from '../src/db/embedded.js';
import { createModels, ensureIndexes } from '../src/db/models.js';
import { createLogger } from '../src/logger.js';
import { testDatabaseUri } from './support/test-app.js';
import { ownEngineName } from './support/own-engine.js';

let dataDir: string;
let target: Connection;
const targetUri = testDatabaseUri();
/** What the source held, read while its engine ran: collection → documents sorted by _id, and indexes. */
let seeded: Record<string, { docs: unknown[]; indexes: unknown[] }> = {};

function copy(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/db-copy.ts', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const indexShape = (ix: { name: string; key: unknown; unique?: boolean }) => ({
  name: ix.name,
  key: ix.key,
  unique: ix.unique ?? false,
});

async function snapshot(conn: Connection) {
  const out: typeof seeded = {};
  for (const { name } of await conn.db!.listCollections({}, { nameOnly: true }).toArray()) {
    const col = conn.db!.collection(name);
    out[name] = {
      docs: await col.find({}, { sort: { _id: 1 } }).toArray(),
      indexes: (await col.listIndexes().toArray())
        .map((ix) => indexShape(ix as never))
        .sort((a, b) => a.name.localeCompare(b.name)),
    };
  }
  return out;
}

beforeAll(async () => {
  // A DATA_DIR as the bot leaves it: the embedded engine with the app's collections and indexes.
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-copy-'));
  const server = await startEmbedded(dataDir, ownEngineName(), createLogger('silent'));
  const source = await mongoose
    .createConnection(`${server.uri.replace(/\/?$/, '/')}account_requests`, { autoIndex: false })
    .asPromise();
  try {
    const models = createModels(source);
    await ensureIndexes(models);
    await models.Ticket.collection.insertMany(
      Array.from({ length: 1200 }, (_, i) => ({
        _id: `tk-${i}` as never,
        number: 1001 + i,
        accountId: `ACC-${i % 50}`,
        title: `Ticket ${i}`,
        history: [{ at: new Date(1_700_000_000_000 + i), what: 'opened' }],
      })),
    );
    await models.Counter.collection.insertOne({ _id: 'ticket' as never, value: 2200 });
    await models.Outbox.collection.insertMany([
      { _id: 'o1' as never, status: 'pending', nextAttemptAt: new Date(0), channel: 'email' },
    ]);
    seeded = await snapshot(source);
  } finally {
    await source.close();
    await server.stop();
  }
  target = await mongoose.createConnection(targetUri).asPromise();
}, 180_000);
afterAll(async () => {
  await target?.dropDatabase().catch(() => undefined);
  await target?.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('npm run db:copy', () => {
  it('when the embedded DATA_DIR is copied to another server, then every collection, document and index is there', async () => {
    const run = await copy(['--from-data-dir', dataDir, '--to', targetUri]);
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^copied \d+ collections, 1202 documents$/m);
    const copied = await snapshot(target);
    expect(Object.keys(copied).sort()).toEqual(Object.keys(seeded).sort());
    for (const [name, { docs, indexes }] of Object.entries(seeded)) {
      expect({ name, count: copied[name]!.docs.length }).toEqual({ name, count: docs.length });
      expect(copied[name]!.docs).toEqual(docs);
      expect({ name, indexes: copied[name]!.indexes }).toEqual({ name, indexes });
    }
    // The guards came along: a second ticket with the same number is refused.
    await expect(
      target.db!.collection('tickets').insertOne({ _id: 'dup' as never, number: 1001 }),
    ).rejects.toMatchObject({ code: 11000 });
  }, 180_000);

  it('when it runs again, then the target is the same, with nothing doubled', async () => {
    const run = await copy(['--from-data-dir', dataDir, '--to', targetUri]);
    expect({ code: run.code, out: run.code === 0 ? '' : run.stdout + run.stderr }).toEqual({ code: 0, out: '' });
    const copied = await snapshot(target);
    for (const [name, { docs }] of Object.entries(seeded))
      expect({ name, docs: copied[name]!.docs }).toEqual({ name, docs });
  }, 180_000);

  it('when a URI is missing, then it prints the usage and exits 2 without touching anything', async () => {
    const run = await copy(['--from', targetUri]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^usage: npm run db:copy/);
  }, 60_000);
});
