-- 38_hold_object_id: for_object is read as an object id of the held table (review R4, finding 4):
-- spelled the way the archive writes object_id ('42' for a one-column key, '[42, 1]' for a
-- composite one), whatever spacing or number form it was given in; a value that cannot be an
-- object id of the table is refused with a hint showing the form; a table without a key has no
-- object ids to hold.
\set SHOW_CONTEXT never
CREATE SCHEMA t38;
SET search_path = t38, public;
CREATE TABLE line (order_id int, no int, x text, PRIMARY KEY (order_id, no));
CREATE TABLE item (id bigint PRIMARY KEY);
CREATE TABLE note (body text);
SELECT deleted_record_attach('line') IS NOT NULL AS attached;
SELECT deleted_record_attach('item') IS NOT NULL AS attached;
SELECT deleted_record_attach('note') IS NOT NULL AS attached;
INSERT INTO line VALUES (42, 1, 'a'), (42, 2, 'b');
INSERT INTO item VALUES (42), (43);
DELETE FROM line;
DELETE FROM item;
SELECT table_name, object_id FROM deleted_record WHERE schema_name = 't38' ORDER BY table_name, object_id;
SELECT deleted_record_hold('t38-a', 'case', for_table => 'line', for_object => '[42,1]');
SELECT deleted_record_hold('t38-b', 'case', for_table => 'item', for_object => '042');
SELECT name, object_id FROM deleted_record_holds WHERE name LIKE 't38-%' ORDER BY name;
-- the held rows stay, the others go
SELECT deleted_record_erase(ARRAY(SELECT id FROM deleted_record WHERE schema_name = 't38' AND object_id IN ('[42, 2]', '43')), 'gdpr') AS erased;
DO $$ BEGIN
  PERFORM deleted_record_erase(ARRAY(SELECT id FROM deleted_record WHERE schema_name = 't38'), 'gdpr');
EXCEPTION WHEN object_not_in_prerequisite_state THEN
  RAISE NOTICE 'refused: %', regexp_replace(SQLERRM, '[0-9a-f]+(-[0-9a-f]+)+', '<id>');
END $$;
-- not object ids of their table: refused, nothing recorded
SELECT deleted_record_hold('t38-c', 'case', for_table => 'line', for_object => '42,1');
SELECT deleted_record_hold('t38-c', 'case', for_table => 'line', for_object => '(42,1)');
SELECT deleted_record_hold('t38-c', 'case', for_table => 'line', for_object => '[42]');
SELECT deleted_record_hold('t38-c', 'case', for_table => 'line', for_object => '["x", 1]');
SELECT deleted_record_hold('t38-c', 'case', for_table => 'item', for_object => 'forty-two');
SELECT deleted_record_hold('t38-c', 'case', for_table => 'note', for_object => 'x');
SELECT deleted_record_hold('t38-c', 'case', for_object => '42');
SELECT count(*) AS recorded FROM deleted_record_holds WHERE name = 't38-c';
-- cleanup
SELECT deleted_record_release(name) FROM deleted_record_holds WHERE name LIKE 't38-%' AND released_at IS NULL;
DROP TABLE line, item, note;
DELETE FROM deleted_record WHERE schema_name = 't38';
DELETE FROM deleted_record_erasure WHERE schema_name = 't38';
DELETE FROM deleted_record_holds WHERE name LIKE 't38-%';
RESET search_path;
DROP SCHEMA t38 CASCADE;
-- deleted_record_exists_now (internal, executable by everyone: it runs as the caller) reads only:
-- a statement that writes, or a second statement, is refused.
CREATE TABLE t38_probe (id int);
SELECT deleted_record_exists_now('SELECT FROM t38_probe') AS found;
SELECT deleted_record_exists_now('WITH d AS (DELETE FROM t38_probe RETURNING id) SELECT FROM d');
SELECT deleted_record_exists_now('INSERT INTO t38_probe VALUES (1) RETURNING id');
SELECT deleted_record_exists_now('SELECT 1) AS x; INSERT INTO t38_probe VALUES (1); SELECT (1');
SELECT count(*) AS written FROM t38_probe;
DROP TABLE t38_probe;
-- A composite key with a timestamptz, held from a session in another time zone: written as the
-- archive writes it (UTC).
CREATE TABLE t38_at (at timestamptz, n int, PRIMARY KEY (at, n));
SELECT deleted_record_attach('t38_at') IS NOT NULL AS attached;
INSERT INTO t38_at VALUES ('2025-01-01 10:00+00', 1);
DELETE FROM t38_at;
SET TimeZone = 'Asia/Tokyo';
SELECT deleted_record_hold('t38-tz', 'case', for_table => 't38_at', for_object => '["2025-01-01 19:00+09", 1]');
SELECT current_setting('TimeZone') AS session_time_zone;
RESET TimeZone;
SELECT h.object_id, h.object_id = d.object_id AS same FROM deleted_record_holds h, deleted_record d
 WHERE h.name = 't38-tz' AND d.table_name = 't38_at';
SELECT deleted_record_release('t38-tz');
DROP TABLE t38_at;
DELETE FROM deleted_record WHERE table_name = 't38_at';
DELETE FROM deleted_record_holds WHERE name = 't38-tz';
-- Review 7 #01: for_object is read with the key column's typmod, as an INSERT stores it, and
-- written as the archive writes it: char(5) 'ab' holds 'ab   ' (not a truncated 'a'), a too long
-- value is refused (not truncated onto another key), numeric(10,2) 42 holds '42.00', also inside
-- a composite key; the held rows are refused to erasure. A numeric key without a scale is refused.
CREATE TABLE t38_n (id numeric(10,2) PRIMARY KEY);
CREATE TABLE t38_ch (id char(5) PRIMARY KEY);
CREATE TABLE t38_c (a numeric(6,2), b int, PRIMARY KEY (a, b));
CREATE TABLE t38_free (id numeric PRIMARY KEY);
SELECT deleted_record_attach('t38_n') IS NOT NULL AND deleted_record_attach('t38_ch') IS NOT NULL
   AND deleted_record_attach('t38_c') IS NOT NULL AND deleted_record_attach('t38_free') IS NOT NULL AS attached;
INSERT INTO t38_n VALUES (42); INSERT INTO t38_ch VALUES ('ab'); INSERT INTO t38_c VALUES (3, 1);
INSERT INTO t38_free VALUES (1.50);
DELETE FROM t38_n; DELETE FROM t38_ch; DELETE FROM t38_c; DELETE FROM t38_free;
SELECT deleted_record_hold('t38-n', 'case', for_table => 't38_n', for_object => '42');
SELECT deleted_record_hold('t38-ch', 'case', for_table => 't38_ch', for_object => 'ab');
SELECT deleted_record_hold('t38-c', 'case', for_table => 't38_c', for_object => '[3, 1]');
SELECT deleted_record_hold('t38-x', 'case', for_table => 't38_ch', for_object => 'abcdefg');
SELECT deleted_record_hold('t38-x', 'case', for_table => 't38_free', for_object => '1.5');
SELECT h.name, '"' || h.object_id || '"' AS object_id, h.object_id = d.object_id AS same_as_archive
  FROM deleted_record_holds h JOIN deleted_record d ON d.table_name = h.table_name
 WHERE h.name LIKE 't38-%' ORDER BY h.name;
DO $$ DECLARE t text; BEGIN
  FOREACH t IN ARRAY ARRAY['t38_n', 't38_ch', 't38_c'] LOOP
    BEGIN
      PERFORM deleted_record_erase(ARRAY(SELECT id FROM deleted_record WHERE table_name = t), 'gdpr');
      RAISE NOTICE '%: erased', t;
    EXCEPTION WHEN object_not_in_prerequisite_state THEN
      RAISE NOTICE '%: refused: %', t, regexp_replace(SQLERRM, '[0-9a-f]+(-[0-9a-f]+)+', '<id>');
    END;
  END LOOP;
END $$;
SELECT count(*) AS kept FROM deleted_record WHERE table_name = ANY ('{t38_n,t38_ch,t38_c}');
SELECT deleted_record_release(name) FROM deleted_record_holds WHERE name LIKE 't38-%' AND released_at IS NULL;
DROP TABLE t38_n, t38_ch, t38_c, t38_free;
DELETE FROM deleted_record WHERE table_name LIKE 't38\_%';
DELETE FROM deleted_record_holds WHERE name LIKE 't38-%';
-- Review 7 #05: a composite key with an array column is held by the archive's own object_id
-- ([[1, 2], 7]), whatever spacing it is given in; the held row is refused to erasure.
CREATE TABLE t38_arr (a int[], b int, PRIMARY KEY (a, b));
SELECT deleted_record_attach('t38_arr') IS NOT NULL AS attached;
INSERT INTO t38_arr VALUES ('{1,2}', 7); DELETE FROM t38_arr;
SELECT deleted_record_hold('t38-arr', 'case', for_table => 't38_arr', for_object => (SELECT object_id FROM deleted_record WHERE table_name = 't38_arr'));
SELECT deleted_record_hold('t38-arr2', 'case', for_table => 't38_arr', for_object => '[[1,2],7]');
SELECT deleted_record_hold('t38-arr3', 'case', for_table => 't38_arr', for_object => '[["x"], 7]');
SELECT h.name, h.object_id, h.object_id = d.object_id AS same_as_archive
  FROM deleted_record_holds h JOIN deleted_record d ON d.table_name = h.table_name
 WHERE h.name LIKE 't38-arr%' ORDER BY h.name;
DO $$ BEGIN
  PERFORM deleted_record_erase(ARRAY(SELECT id FROM deleted_record WHERE table_name = 't38_arr'), 'gdpr');
EXCEPTION WHEN object_not_in_prerequisite_state THEN
  RAISE NOTICE 'refused: %', regexp_replace(SQLERRM, '[0-9a-f]+(-[0-9a-f]+)+', '<id>');
END $$;
SELECT deleted_record_release(name) FROM deleted_record_holds WHERE name LIKE 't38-arr%' AND released_at IS NULL;
DROP TABLE t38_arr;
DELETE FROM deleted_record WHERE table_name = 't38_arr';
DELETE FROM deleted_record_holds WHERE name LIKE 't38-arr%';
