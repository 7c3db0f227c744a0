/**
 * FerretDB on PostgreSQL: lookups by `_id` and by an indexed field use an index (the GIN twin the
 * launcher keeps beside each of FerretDB's btree indexes), as PostgreSQL's own EXPLAIN shows.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose, { type Connection } from 'mongoose';
import { startFerret, type FerretHandle } from '../src/db/ferretdb.js';
import { createModels, ensureIndexes, type Models } from '../src/db/models.js';
import { createLogger } from '../src/logger.js';
import { testDatabaseUri } from './support/test-app.js';

let conn: Connection;
let models: Models;
let own: { ferret: FerretHandle; dir: string } | undefined;

beforeAll(async () => {
  let uri: string;
  if (process.env.TEST_DB_ENGINE === 'ferretdb-postgres') {
    uri = testDatabaseUri();
  } else {
    // The run is on another engine: this behaviour belongs to PostgreSQL, so start one.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-gin-'));
    own = { ferret: await startFerret(dir, createLogger('silent'), undefined, { backend: 'postgresql' }), dir };
    uri = `${own.ferret.uri.replace(/\/?$/, '/')}gin_test`;
  }
  conn = await mongoose.createConnection(uri, { autoIndex: false }).asPromise();
  models = createModels(conn);
  await ensureIndexes(models);
  await models.Ticket.collection.insertMany(
    Array.from({ length: 2000 }, (_, i) => ({
      _id: `t-${i}` as never,
      number: 1001 + i,
      accountId: `ACC-${i % 400}`,
      title: `n${i}`,
      idempotencyKey: `k-${i}`,
    })),
  );
}, 120_000);
afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
  if (own) {
    await own.ferret.stop();
    await fs.rm(own.dir, { recursive: true, force: true });
  }
});

/** PostgreSQL's plan for a find, as FerretDB's explain reports it, flattened to its nodes. */
async function planNodes(filter: Record<string, unknown>): Promise<{ 'Node Type': string; 'Index Name'?: string }[]> {
  const explained = await conn.db!.command({
    explain: { find: models.Ticket.collection.collectionName, filter },
    verbosity: 'queryPlanner',
  });
  const nodes: { 'Node Type': string; 'Index Name'?: string }[] = [];
  const walk = (node: { 'Node Type': string; Plans?: unknown[] }) => {
    nodes.push(node);
    for (const child of node.Plans ?? []) walk(child as typeof node);
  };
  walk((explained.queryPlanner as { Plan: { 'Node Type': string } }).Plan);
  return nodes;
}

const usesGin = (nodes: { 'Node Type': string; 'Index Name'?: string }[]) =>
  nodes.some((n) => /Index Scan/.test(n['Node Type']) && /_gin$/.test(n['Index Name'] ?? ''));

describe('FerretDB on PostgreSQL', () => {
  it('when a ticket is looked up by _id, then PostgreSQL uses a GIN index, not a sequential scan', async () => {
    const nodes = await planNodes({ _id: 't-1234' });
    expect(usesGin(nodes)).toBe(true);
    expect(nodes.map((n) => n['Node Type'])).not.toContain('Seq Scan');
    expect(await models.Ticket.countDocuments({ _id: 't-1234' })).toBe(1);
  });

  it('when tickets are looked up by an indexed field, then PostgreSQL uses its GIN twin', async () => {
    expect(usesGin(await planNodes({ accountId: 'ACC-7' }))).toBe(true);
    expect(usesGin(await planNodes({ idempotencyKey: 'k-99' }))).toBe(true);
    expect(await models.Ticket.countDocuments({ accountId: 'ACC-7' })).toBe(5);
  });

  it('when the field has no index, or its index is dropped, then there is no twin either', async () => {
    expect(usesGin(await planNodes({ title: 'n5' }))).toBe(false);
    await models.Ticket.collection.dropIndex('accountId_1');
    expect(usesGin(await planNodes({ accountId: 'ACC-7' }))).toBe(false);
    // The unique guard on number is untouched.
    await expect(models.Ticket.collection.insertOne({ _id: 'dup' as never, number: 1001 })).rejects.toMatchObject({
      code: 11000,
    });
  });
});
