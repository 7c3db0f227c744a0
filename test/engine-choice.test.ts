/** Which embedded engine a DATA_DIR gets: the one holding its data, else FerretDB on PostgreSQL; the log says which. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { startEmbedded } from '../src/db/embedded.js';
import { startFerret } from '../src/db/ferretdb.js';
import { createLogger } from '../src/logger.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger('info', sink), lines };
}

async function withClient<T>(uri: string, use: (c: MongoClient) => Promise<T>): Promise<T> {
  const client = await MongoClient.connect(uri, { serverSelectionTimeoutMS: 10_000 });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

describe('choosing the embedded engine', () => {
  it('when a DATA_DIR was written by the SQLite engine, then auto keeps SQLite and its data is there', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-sqlite-'));
    dirs.push(dataDir);
    // Data as the SQLite engine of earlier versions wrote it: DATA_DIR/db/ferretdb.
    const old = await startFerret(path.join(dataDir, 'db', 'ferretdb'), createLogger('silent'), undefined, {
      backend: 'sqlite',
    });
    await withClient(old.uri, (c) =>
      c
        .db('account_requests')
        .collection('tickets')
        .insertOne({ _id: 'AR-1001' as never, title: 'from before' }),
    );
    await old.stop();

    const { log, lines } = capturingLogger();
    const server = await startEmbedded(dataDir, 'auto', log);
    try {
      expect(server.engine).toBe('ferretdb-sqlite');
      expect(lines.find((l) => l.event === 'db.embedded.chosen')).toMatchObject({ engine: 'ferretdb-sqlite' });
      const doc = await withClient(server.uri, (c) =>
        c
          .db('account_requests')
          .collection('tickets')
          .findOne({ _id: 'AR-1001' as never }),
      );
      expect(doc?.title).toBe('from before');
    } finally {
      await server.stop();
    }
    // Nothing of the new engine was made beside it.
    await expect(fs.access(path.join(dataDir, 'db', 'postgres'))).rejects.toThrow();
  }, 120_000);

  it('when EMBEDDED_DB uses the old name ferretdb on a new DATA_DIR, then it starts FerretDB on SQLite', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-oldname-'));
    dirs.push(dataDir);
    const { loadConfig } = await import('../src/config.js');
    const config = loadConfig({ EMBEDDED_DB: 'ferretdb', DATA_DIR: dataDir });
    if (!config.ok) throw new Error(config.problems.join('; '));
    const server = await startEmbedded(dataDir, config.config.db.embedded, createLogger('silent'));
    try {
      expect(server.engine).toBe('ferretdb-sqlite');
      expect((await fs.readdir(path.join(dataDir, 'db'))).sort()).toEqual(['ferretdb']);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
