/**
 * npm run db:copy -- --from <uri> --to <uri>
 * npm run db:copy -- --from-data-dir ./.data --to <uri>
 *
 * Copies the bot's database between two MongoDB-compatible servers (src/db/copy.ts). A URI that
 * names no database means the bot's own, `account_requests`. --from-data-dir starts the embedded
 * engine that holds that DATA_DIR (stop the bot first) and copies from it: the move from the
 * embedded engine to MongoDB Atlas in one command. Progress goes to stderr, the summary to stdout;
 * the exit code is 1 when a count differs afterwards.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { copyDatabase } from '../src/db/copy.js';
import { startEmbedded } from '../src/db/embedded.js';
import { createLogger } from '../src/logger.js';

const USAGE = 'usage: npm run db:copy -- (--from <uri> | --from-data-dir <dir>) --to <uri>';

/** The URI without its password, for output. */
function shown(uri: string): string {
  try {
    const u = new URL(uri);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URI)';
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { from: { type: 'string' }, 'from-data-dir': { type: 'string' }, to: { type: 'string' } },
  });
  const dataDir = values['from-data-dir'];
  if (!values.to || !values.from === !dataDir) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const log = createLogger('warn');
  const embedded = dataDir ? await startEmbedded(path.resolve(dataDir), 'auto', log) : undefined;
  const from = embedded ? `${embedded.uri.replace(/\/?$/, '/')}account_requests` : values.from!;
  try {
    process.stderr.write(
      `copying ${shown(from)}${embedded ? ` (embedded ${embedded.engine})` : ''} to ${shown(values.to)}\n`,
    );
    const result = await copyDatabase(from, values.to, {
      onBatch: (collection, copied) => process.stderr.write(`  ${collection}: ${copied} documents\r`),
      onCollection: (p) => process.stderr.write(`  ${p.collection}: ${p.documents} documents, ${p.indexes} indexes\n`),
    });
    const documents = result.collections.reduce((n, c) => n + c.documents, 0);
    process.stdout.write(`copied ${result.collections.length} collections, ${documents} documents\n`);
    for (const m of result.mismatches)
      process.stdout.write(`count differs in ${m.collection}: source ${m.source}, target ${m.target}\n`);
    return result.mismatches.length > 0 ? 1 : 0;
  } finally {
    await embedded?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`db:copy failed: ${err.message}\n`);
    process.exit(1);
  },
);
