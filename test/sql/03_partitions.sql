-- 03_partitions: one attach on a partitioned table covers every partition, present and future;
-- table_name is the partitioned root, partition_name the leaf; rows moved between partitions by
-- an UPDATE are not archived; TRUNCATE of the root or of one partition follows the policy.
\set SHOW_CONTEXT never
CREATE SCHEMA t03;
SET search_path = t03, public;

CREATE TABLE events (id int, region text, payload text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu');
CREATE TABLE events_us PARTITION OF events FOR VALUES IN ('us');
SELECT deleted_record_attach('events');
-- Created after the attach: covered too.
CREATE TABLE events_ap PARTITION OF events FOR VALUES IN ('ap');
-- An existing table attached as a partition after the attach: covered too.
CREATE TABLE events_sa (id int NOT NULL, region text NOT NULL, payload text);
ALTER TABLE events ATTACH PARTITION events_sa FOR VALUES IN ('sa');
INSERT INTO events VALUES (1, 'eu', 'one'), (2, 'us', 'two'), (3, 'ap', 'three'), (4, 'eu', 'four'),
                          (5, 'sa', 'five'), (6, 'us', 'six'), (7, 'eu', 'seven');

-- Partitions are not listed separately in deleted_record_attached.
SELECT table_name, on_truncate FROM deleted_record_attached
 WHERE table_name::oid IN (SELECT relid FROM pg_partition_tree('t03.events'));

DELETE FROM events WHERE id = 1;          -- through the parent
DELETE FROM events_us WHERE id = 2;       -- directly from a partition
DELETE FROM events_ap WHERE id = 3;       -- partition created after the attach
DELETE FROM events_sa WHERE id = 5;       -- partition attached after the attach
-- A row moved to another partition by an UPDATE of the partition key is not deleted: not archived.
UPDATE events SET region = 'us' WHERE id = 4;
UPDATE events SET region = 'ap', payload = 'moved' WHERE id = 6;
MERGE INTO events t USING (VALUES (7)) AS s(id) ON t.id = s.id
 WHEN MATCHED THEN UPDATE SET region = 'sa';           -- MERGE moving a row: not archived either
MERGE INTO events t USING (VALUES (7)) AS s(id) ON t.id = s.id
 WHEN MATCHED THEN UPDATE SET region = 'eu';           -- and back
SELECT id, region, payload, tableoid::regclass FROM events ORDER BY id;
SELECT object_id, table_name, schema_name, partition_name, data
  FROM deleted_record WHERE schema_name = 't03' ORDER BY (data->>'id')::int;

-- A row deleted after it was moved is archived once, from its new partition.
DELETE FROM events WHERE id = 4;
SELECT object_id, partition_name, data->>'region' AS region
  FROM deleted_record WHERE schema_name = 't03' AND data->>'id' = '4';

-- A detached partition is an ordinary table again: its deletes are no longer archived.
ALTER TABLE events DETACH PARTITION events_sa;
INSERT INTO events_sa VALUES (50, 'sa', 'after detach');
DELETE FROM events_sa;
SELECT count(*) AS archived_after_detach FROM deleted_record WHERE schema_name = 't03' AND data->>'id' = '50';

-- TRUNCATE of a single partition (policy archive): its rows are archived, under the root's name.
INSERT INTO events VALUES (10, 'eu', 'ten'), (11, 'us', 'eleven'), (12, 'ap', 'twelve');
TRUNCATE events_eu;
SELECT object_id, table_name, partition_name FROM deleted_record
 WHERE schema_name = 't03' AND (data->>'id')::int >= 10 ORDER BY (data->>'id')::int;
-- TRUNCATE, on its own, of the partition created after the attach: covered by the policy too.
TRUNCATE events_ap;
SELECT object_id, table_name, partition_name FROM deleted_record
 WHERE schema_name = 't03' AND partition_name = 'events_ap' AND (data->>'id')::int IN (6, 12) ORDER BY 1;
-- TRUNCATE of the root: every remaining row of every partition archived exactly once.
INSERT INTO events VALUES (13, 'ap', 'thirteen');
TRUNCATE events;
SELECT count(*) FROM events;
SELECT object_id, table_name, partition_name, count(*) AS times_archived
  FROM deleted_record WHERE schema_name = 't03' AND (data->>'id')::int IN (6, 7, 10, 11, 12, 13)
 GROUP BY 1, 2, 3 ORDER BY 1;

-- Two levels of partitioning: table_name is the top-level root, partition_name the leaf.
CREATE TABLE m (id int, y int, k int, PRIMARY KEY (id, y, k)) PARTITION BY RANGE (y);
CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM (2024) TO (2025) PARTITION BY LIST (k);
CREATE TABLE m_2024_k1 PARTITION OF m_2024 FOR VALUES IN (1);
CREATE TABLE m_2024_k2 PARTITION OF m_2024 FOR VALUES IN (2);
SELECT deleted_record_attach('m', 'archive');
CREATE TABLE m_2025 PARTITION OF m FOR VALUES FROM (2025) TO (2026) PARTITION BY LIST (k);
CREATE TABLE m_2025_k1 PARTITION OF m_2025 FOR VALUES IN (1);
INSERT INTO m VALUES (1, 2024, 1), (2, 2024, 2), (3, 2024, 1), (4, 2025, 1), (5, 2024, 1);
DELETE FROM m WHERE id = 1;             -- through the root
DELETE FROM m_2024 WHERE id = 2;        -- through the middle level
DELETE FROM m_2024_k1 WHERE id = 3;     -- directly from the leaf
DELETE FROM m_2025_k1 WHERE id = 4;     -- leaf of a sub-tree created after the attach
UPDATE m SET k = 2 WHERE id = 5;        -- moved between leaves: not archived
SELECT object_id, table_name, schema_name, partition_name
  FROM deleted_record WHERE schema_name = 't03' AND table_name = 'm' ORDER BY (data->>'id')::int;
SELECT table_name FROM deleted_record_attached
 WHERE table_name::oid IN (SELECT relid FROM pg_partition_tree('t03.m'));

-- Detaching the root removes the delete trigger (and its clones) and every TRUNCATE guard.
SELECT deleted_record_detach('m');
SELECT count(*) AS triggers_left FROM pg_trigger
 WHERE tgrelid IN (SELECT relid FROM pg_partition_tree('t03.m')) AND tgname LIKE 'deleted_record%';
DELETE FROM m;
SELECT count(*) AS archived FROM deleted_record WHERE schema_name = 't03' AND table_name = 'm';

-- Clean up.
DELETE FROM deleted_record WHERE schema_name = 't03';
SET client_min_messages = warning;
DROP SCHEMA t03 CASCADE;
