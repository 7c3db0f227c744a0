// GIN twins for FerretDB's indexes. FerretDB 1.24 on PostgreSQL turns every equality filter
// on a top-level field (`_id` included) into `_jsonb -> 'f' @> value`, but the indexes it
// creates are btree, which `@>` cannot use: every lookup was a sequential scan. Beside each
// btree index the database keeps a GIN index (jsonb_path_ops) on the same field expression,
// which `@>` can use. An event trigger adds them when FerretDB creates an index and drops them
// with it; the launcher also brings every table up to date at start. FerretDB does not see
// them: it reads its indexes from its own metadata.

package main

import (
	"context"

	"github.com/jackc/pgx/v5"
)

const ginTwinsSQL = `
CREATE SCHEMA IF NOT EXISTS arb_gin_twins;

-- The expression FerretDB filters with for the field of one btree column, or NULL when the
-- column is not a top-level field of _jsonb. FerretDB 1.24 pushes no filter on a dotted field
-- down to PostgreSQL (EXPLAIN shows a bare sequential scan), so a twin for one would only cost
-- writes.
CREATE OR REPLACE FUNCTION arb_gin_twins.filter_expression(col text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
  m text[];
BEGIN
  m := regexp_match(col, $re$^\(*_jsonb -> '((?:[^']|'')*)'::text\)*$$re$);
  IF m IS NULL THEN
    RETURN NULL;
  END IF;
  RETURN format('(_jsonb -> %L::text)', replace(m[1], '''''', ''''));
END $fn$;

-- The twins a table should have: one per distinct top-level field of its btree indexes.
CREATE OR REPLACE FUNCTION arb_gin_twins.wanted(tbl oid) RETURNS TABLE (name text, expr text)
LANGUAGE sql STABLE AS $fn$
  SELECT DISTINCT format('%s_%s_gin', left(t.relname, 40), left(md5(t.relname || e.expr), 12)), e.expr
    FROM pg_class t
    JOIN pg_index i ON i.indrelid = t.oid
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
    CROSS JOIN LATERAL generate_series(1, i.indnkeyatts) AS k(n)
    CROSS JOIN LATERAL (SELECT arb_gin_twins.filter_expression(pg_get_indexdef(i.indexrelid, k.n, false)) AS expr) e
   WHERE t.oid = tbl AND t.relname NOT LIKE '\_ferretdb\_%' AND e.expr IS NOT NULL
$fn$;

CREATE OR REPLACE FUNCTION arb_gin_twins.sync_table(tbl oid) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  sch text;
  tab text;
  w record;
  stale record;
BEGIN
  SELECT n.nspname, c.relname INTO sch, tab
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = tbl;
  IF tab IS NULL THEN
    RETURN;
  END IF;
  FOR w IN SELECT * FROM arb_gin_twins.wanted(tbl) LOOP
    IF to_regclass(format('%I.%I', sch, w.name)) IS NULL THEN
      -- fastupdate off: each twin holds one value per document, so the pending list saves
      -- little on inserts, while every lookup scans it whole (8 ms instead of 1 at 50,000).
      EXECUTE format('CREATE INDEX %I ON %I.%I USING gin (%s jsonb_path_ops) WITH (fastupdate = off)', w.name, sch, tab, w.expr);
      EXECUTE format('COMMENT ON INDEX %I.%I IS %L', sch, w.name, 'arb gin twin');
    END IF;
  END LOOP;
  FOR stale IN
    SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
     WHERE i.indrelid = tbl AND obj_description(ic.oid, 'pg_class') = 'arb gin twin'
       AND ic.relname NOT IN (SELECT name FROM arb_gin_twins.wanted(tbl))
  LOOP
    EXECUTE format('DROP INDEX %I.%I', sch, stale.relname);
  END LOOP;
END $fn$;

-- A twin that cannot be made must not fail FerretDB's own statement: lookups are only slower.
CREATE OR REPLACE FUNCTION arb_gin_twins.sync_safely(tbl oid) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM set_config('arb_gin_twins.busy', 'on', true);
  BEGIN
    PERFORM arb_gin_twins.sync_table(tbl);
  EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'arb_gin_twins: table %: %', tbl, SQLERRM;
  END;
  PERFORM set_config('arb_gin_twins.busy', 'off', true);
END $fn$;

CREATE OR REPLACE FUNCTION arb_gin_twins.on_create_index() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  r record;
BEGIN
  -- Our own CREATE INDEX fires this trigger again.
  IF current_setting('arb_gin_twins.busy', true) = 'on' THEN
    RETURN;
  END IF;
  FOR r IN
    SELECT DISTINCT i.indrelid FROM pg_event_trigger_ddl_commands() c
      JOIN pg_index i ON i.indexrelid = c.objid
     WHERE c.object_type = 'index'
  LOOP
    PERFORM arb_gin_twins.sync_safely(r.indrelid);
  END LOOP;
END $fn$;

CREATE OR REPLACE FUNCTION arb_gin_twins.on_drop_index() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  r record;
BEGIN
  IF current_setting('arb_gin_twins.busy', true) = 'on' THEN
    RETURN;
  END IF;
  -- The dropped index's table is not reported, only its schema: look at that schema's tables.
  FOR r IN
    SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r' AND n.nspname IN (
       SELECT DISTINCT d.schema_name FROM pg_event_trigger_dropped_objects() d WHERE d.object_type = 'index')
  LOOP
    PERFORM arb_gin_twins.sync_safely(r.oid);
  END LOOP;
END $fn$;

DO $do$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'arb_gin_twins_create') THEN
    CREATE EVENT TRIGGER arb_gin_twins_create ON ddl_command_end
      WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION arb_gin_twins.on_create_index();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'arb_gin_twins_drop') THEN
    CREATE EVENT TRIGGER arb_gin_twins_drop ON sql_drop
      WHEN TAG IN ('DROP INDEX') EXECUTE FUNCTION arb_gin_twins.on_drop_index();
  END IF;
END $do$;

-- Tables made before this version of the triggers (or while one failed) catch up now.
SELECT arb_gin_twins.sync_safely(c.oid)
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = '_jsonb'
 WHERE c.relkind = 'r';
`

func installGinTwins(ctx context.Context, conn *pgx.Conn) error {
	// No arguments: the simple protocol, which runs the statements in one go.
	_, err := conn.Exec(ctx, ginTwinsSQL)
	return err
}
