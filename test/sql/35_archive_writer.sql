-- 35_archive_writer: the archive is recognised by OID among its partitions (a trigger that would
-- archive the archive itself, on the parent, a dated partition or the default, is refused), and
-- the writer keeps working after the archive changed shape and after a write that failed inside
-- the caller's exception block; a jsonb column is archived as itself.
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
CREATE SCHEMA t35;
SET search_path = t35, public;

-- An archive row in a dated partition and one in the default partition.
INSERT INTO public.deleted_record (id, data, table_name, schema_name, xact_id)
VALUES (public.deleted_record_uuid7(), '{"n": 1}', 'self', 't35', 1),
       ('00000000-0000-7000-8000-000000000001', '{"n": 2}', 'self', 't35', 1);
SELECT count(*) AS in_default FROM public.deleted_record_default WHERE schema_name = 't35';
SELECT tableoid::regclass::text <> 'deleted_record_default' AS in_dated_partition
  FROM public.deleted_record WHERE schema_name = 't35' AND data OPERATOR(pg_catalog.=) '{"n": 1}';

-- The extension's DDL guard refuses such a trigger; with event triggers off (a replica's
-- session), the trigger function still refuses to archive the archive.
SET session_replication_role = replica;
DO $$
DECLARE
    leaf regclass;
BEGIN
    SELECT tableoid INTO leaf FROM public.deleted_record WHERE schema_name = 't35' AND data = '{"n": 1}';
    EXECUTE format('CREATE TRIGGER self_archive AFTER DELETE ON %s FOR EACH ROW EXECUTE FUNCTION public.deleted_record_insert()', leaf);
END $$;
CREATE TRIGGER self_archive AFTER DELETE ON public.deleted_record_default FOR EACH ROW EXECUTE FUNCTION public.deleted_record_insert();
RESET session_replication_role;
\set VERBOSITY terse
DELETE FROM public.deleted_record WHERE schema_name = 't35' AND data = '{"n": 1}';
DELETE FROM public.deleted_record WHERE schema_name = 't35' AND data = '{"n": 2}';
SET session_replication_role = replica;
DO $$
DECLARE
    leaf regclass;
BEGIN
    SELECT tableoid INTO leaf FROM public.deleted_record WHERE schema_name = 't35' AND data = '{"n": 1}';
    EXECUTE format('DROP TRIGGER self_archive ON %s', leaf);
END $$;
DROP TRIGGER self_archive ON public.deleted_record_default;
CREATE TRIGGER self_archive AFTER DELETE ON public.deleted_record FOR EACH ROW EXECUTE FUNCTION public.deleted_record_insert();
RESET session_replication_role;
DELETE FROM public.deleted_record WHERE schema_name = 't35';
\set VERBOSITY default
SET session_replication_role = replica;
DROP TRIGGER self_archive ON public.deleted_record;
RESET session_replication_role;
SELECT count(*) AS still_there FROM public.deleted_record WHERE schema_name = 't35' AND table_name = 'self';
DELETE FROM public.deleted_record WHERE schema_name = 't35';

CREATE TABLE item (id int PRIMARY KEY, note text);
SELECT deleted_record_attach('item');
INSERT INTO item SELECT g, 'n' || g FROM generate_series(1, 6) g;
DELETE FROM item WHERE id = 1;

-- A DBA's CHECK on the archive fails one write inside an exception block; the next write works.
ALTER TABLE public.deleted_record ADD CONSTRAINT t35_refused CHECK (data->>'note' IS DISTINCT FROM 'refused by t35');
UPDATE item SET note = 'refused by t35' WHERE id = 2;
DO $$
BEGIN
    DELETE FROM t35.item WHERE id = 2;
EXCEPTION WHEN check_violation THEN
    RAISE NOTICE 'caught: %', regexp_replace(SQLERRM, 'deleted_record_\d+_\d+', 'deleted_record_<month>');
END $$;
DELETE FROM item WHERE id = 3;
ALTER TABLE public.deleted_record DROP CONSTRAINT t35_refused;

-- The archive changes shape between writes: a DBA's column with a default, then without it.
ALTER TABLE public.deleted_record ADD COLUMN t35_site text DEFAULT 'north';
DELETE FROM item WHERE id = 4;
SELECT object_id, t35_site FROM public.deleted_record WHERE schema_name = 't35' ORDER BY object_id;
ALTER TABLE public.deleted_record DROP COLUMN t35_site;
DELETE FROM item WHERE id IN (5, 6);

SELECT object_id, data->>'note' AS note FROM public.deleted_record
 WHERE schema_name = 't35' AND table_name = 'item' ORDER BY object_id;
SELECT id FROM item ORDER BY id;

-- A jsonb column is archived as itself, however nested (it is read into a tree in stored order).
CREATE TABLE doc (id int PRIMARY KEY, j jsonb);
SELECT deleted_record_attach('doc');
INSERT INTO doc VALUES
  (1, '{"b": [1, {"zz": {}, "a": []}, [[true, null]], "s"], "aaa": {"k": -1.50, "kk": [{"x": {"y": [{}]}}]}, "a": 1e3}'),
  (2, '[[], {}, [{"": ""}], 0]'),
  (3, '"just a string"'),
  (4, '{}'),
  (5, '[]');
CREATE TEMP TABLE doc_copy AS SELECT * FROM doc;
DELETE FROM doc;
SELECT c.id, r.data->'j' = c.j AS equal, (r.data->'j')::text = c.j::text AS same_text,
       pg_column_size(r.data->'j') = pg_column_size(c.j::text::jsonb) AS same_size
  FROM doc_copy c JOIN public.deleted_record r
    ON r.schema_name = 't35' AND r.table_name = 'doc' AND r.object_id = c.id::text
 ORDER BY c.id;
SELECT deleted_record_detach('doc');

SELECT deleted_record_detach('item');
DELETE FROM public.deleted_record WHERE schema_name = 't35';
DROP SCHEMA t35 CASCADE;
