-- 37_holds_partition: a hold on a partition attached on its own, or on its root, keeps holding
-- the partition's rows after the root is renamed (review R4, finding 10): its attachment is
-- recorded, and the hold follows the held table's current name.
\set SHOW_CONTEXT never
CREATE SCHEMA t37;
SET search_path = t37, public;
-- try_erase erases the rows archived under that table name, or says which hold refused.
CREATE FUNCTION try_erase(tab text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN 'erased ' || public.deleted_record_erase(ARRAY(SELECT id FROM public.deleted_record
                                                        WHERE schema_name = 't37' AND table_name = tab), 'test');
EXCEPTION WHEN object_not_in_prerequisite_state THEN
  RETURN regexp_replace(SQLERRM, '[0-9a-f]+(-[0-9a-f]+)+', '<id>');
END $$;
CREATE TABLE ev (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE ev_2025 PARTITION OF ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE ev_2026 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT deleted_record_attach('ev_2025') IS NOT NULL AS attached;
INSERT INTO ev VALUES (1, '2025-05-05');
DELETE FROM ev;
SELECT deleted_record_hold('t37-part', 'case', for_table => 'ev_2025');
SELECT deleted_record_hold('t37-root', 'case', for_table => 'ev');
-- the partition's attachment is recorded in both holds
SELECT h.name, h.table_name, h.table_oid::regclass,
       h.attachment_ids = ARRAY[(SELECT a.attachment_id FROM deleted_record_attachments() a WHERE a.relation = 't37.ev_2025'::regclass)] AS has_partition_attachment
  FROM deleted_record_holds h WHERE h.name LIKE 't37-%' ORDER BY h.name;
ALTER TABLE ev RENAME TO events;
INSERT INTO events VALUES (3, '2025-06-06');
DELETE FROM events WHERE id = 3;
SELECT table_name, object_id FROM deleted_record WHERE schema_name = 't37' ORDER BY id;
-- both rows are held: by the oldest hold covering them
SELECT try_erase('events');
SELECT deleted_record_release('t37-part');
SELECT try_erase('events');
SELECT deleted_record_release('t37-root');
SELECT deleted_record_erase(ARRAY(SELECT d.id FROM deleted_record d WHERE d.schema_name = 't37'), 'gdpr') AS erased;
-- cleanup
DROP TABLE events;
DELETE FROM deleted_record_erasure WHERE schema_name = 't37';
DELETE FROM deleted_record_holds WHERE name LIKE 't37-%';
RESET search_path;
DROP SCHEMA t37 CASCADE;
