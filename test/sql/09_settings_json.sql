-- 09_settings_json: the archived data of a row is byte-identical whatever the deleting session's
-- TimeZone, DateStyle, IntervalStyle, extra_float_digits and bytea_output: timestamptz in UTC,
-- intervals in the postgres style, floats with every digit, NaN and +-Infinity kept as strings.
\set SHOW_CONTEXT never
CREATE SCHEMA t09;
SET search_path = t09, public;
-- The canonical settings, under which the expected JSON is computed.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, MDY';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 1;
SET bytea_output = 'hex';

CREATE TABLE tmpl (
    id     int PRIMARY KEY,
    tstz   timestamptz,
    ts     timestamp,
    d      date,
    tm     time,
    ttz    timetz,
    iv     interval,
    f8     float8,
    f4     real,
    f8big  float8,
    n      numeric,
    f8nan  float8,
    f8inf  float8,
    f8ninf float8,
    nnan   numeric,
    ninf   numeric,
    nninf  numeric,
    b      bytea,
    tstzs  timestamptz[],
    ivs    interval[],
    f8s    float8[],
    r      tstzrange,
    dr     daterange,
    mr     tstzmultirange,
    nested jsonb
);
INSERT INTO tmpl VALUES (
    1,
    '2024-05-01 12:34:56.789+02',
    '2024-05-01 12:34:56.789',
    '2024-05-01',
    '23:59:59.5',
    '12:00:00+05:30',
    '1 year 2 months 3 days 04:05:06.789',
    0.1234567890123456789,
    1.2345678,
    6.02214076e23,
    123456789.123456789,
    'NaN',
    'Infinity',
    '-Infinity',
    'NaN',
    'Infinity',
    '-Infinity',
    '\x00ff41420a'::bytea,
    ARRAY['2024-01-01 00:00:00+00', '2024-06-30 23:30:00-07']::timestamptz[],
    ARRAY['1 day', '-2 hours 3 minutes', '1 mon -1 sec']::interval[],
    ARRAY[0.1, 1.0/3, 'NaN', '-Infinity']::float8[],
    '[2024-01-01 10:00:00+00,2024-01-02 10:00:00+00)',
    '[2024-01-01,2024-02-01)',
    '{[2024-01-01 00:00:00+00,2024-01-01 01:00:00+00), [2024-03-01 00:00:00+00,)}',
    '{"k": [1.50, 2e3, true, null, "s"]}'
);
CREATE TEMP TABLE canonical AS SELECT to_jsonb(t) AS j FROM tmpl t;
-- The canonical JSON (what to_jsonb gives under the canonical settings).
SELECT j FROM canonical;
SELECT j->>'f8' AS f8, j->>'f4' AS f4, j->>'tstz' AS tstz, j->>'iv' AS iv, j->>'b' AS b,
       jsonb_typeof(j->'f8nan') AS nan_type, j->>'f8inf' AS inf FROM canonical;

-- Six identical tables, each holding the same row, each deleted under different settings.
DO $$
BEGIN
  FOR i IN 1..6 LOOP
    EXECUTE format('CREATE TABLE t09.s%s (LIKE t09.tmpl INCLUDING ALL)', i);
    EXECUTE format('INSERT INTO t09.s%s SELECT * FROM t09.tmpl', i);
    EXECUTE format('SELECT public.deleted_record_attach(%L)', 't09.s' || i);
  END LOOP;
END $$;

-- 1: the canonical settings.
DELETE FROM s1;
-- 2: a half-hour time zone, SQL dates, sql_standard intervals, the fewest float digits, escaped bytea.
SET TimeZone = 'Asia/Kolkata';
SET DateStyle = 'SQL, DMY';
SET IntervalStyle = 'sql_standard';
SET extra_float_digits = -15;
SET bytea_output = 'escape';
DELETE FROM s2;
-- 3: a negative half-hour zone, German dates, ISO 8601 intervals, extra_float_digits 0.
SET TimeZone = 'America/St_Johns';
SET DateStyle = 'German';
SET IntervalStyle = 'iso_8601';
SET extra_float_digits = 0;
SET bytea_output = 'hex';
DELETE FROM s3;
-- 4: +12:45, Postgres YMD dates, verbose intervals, extra_float_digits 3.
SET TimeZone = 'Pacific/Chatham';
SET DateStyle = 'Postgres, YMD';
SET IntervalStyle = 'postgres_verbose';
SET extra_float_digits = 3;
SET bytea_output = 'escape';
DELETE FROM s4;
-- 5: pg_regress's own defaults (PST8PDT, Postgres MDY), with SET LOCAL inside a transaction.
BEGIN;
SET LOCAL TimeZone = 'PST8PDT';
SET LOCAL DateStyle = 'Postgres, MDY';
SET LOCAL extra_float_digits = -15;
DELETE FROM s5;
COMMIT;
-- 6: a POSIX offset zone and a mix, set by a function's SET clause around the delete.
CREATE FUNCTION delete_s6() RETURNS void LANGUAGE sql
    SET TimeZone = '<+14>-14' SET DateStyle = 'SQL, MDY' SET IntervalStyle = 'sql_standard' SET extra_float_digits = -10
    AS $$ DELETE FROM t09.s6 $$;
SELECT delete_s6();
-- The deleting session's settings are untouched by the archiving.
SHOW TimeZone;
SHOW DateStyle;
SHOW IntervalStyle;
SHOW extra_float_digits;
SHOW bytea_output;
SELECT 0.1234567890123456789::float8 AS f8_in_session;

RESET TimeZone;
RESET DateStyle;
RESET IntervalStyle;
RESET extra_float_digits;
RESET bytea_output;
SET TimeZone = 'UTC';
-- Every archived data is byte-identical to the canonical to_jsonb.
SELECT table_name, data::text = (SELECT j::text FROM canonical) AS identical
  FROM deleted_record WHERE schema_name = 't09' ORDER BY table_name;
SELECT count(DISTINCT data::text) AS distinct_renderings FROM deleted_record WHERE schema_name = 't09';
-- Which keys differ, if any (empty when all is well).
SELECT d.table_name, k.key, d.data->k.key AS archived, c.j->k.key AS canonical
  FROM deleted_record d CROSS JOIN canonical c CROSS JOIN LATERAL jsonb_object_keys(c.j) AS k(key)
 WHERE d.schema_name = 't09' AND d.data->k.key IS DISTINCT FROM c.j->k.key
 ORDER BY 1, 2;

-- A composite key containing a timestamptz: object_id does not depend on the session either.
CREATE TABLE ck (ts timestamptz, n float8, PRIMARY KEY (ts, n));
SELECT deleted_record_attach('ck');
INSERT INTO ck VALUES ('2024-05-01 12:00:00+00', 0.1234567890123456789), ('2024-05-02 12:00:00+00', 0.1234567890123456789);
SET TimeZone = 'Asia/Kolkata';
SET extra_float_digits = -15;
DELETE FROM ck WHERE ts = '2024-05-01 12:00:00+00';
SET TimeZone = 'UTC';
SET extra_float_digits = 1;
DELETE FROM ck;
SELECT object_id FROM deleted_record WHERE schema_name = 't09' AND table_name = 'ck' ORDER BY object_id;

-- Clean up.
DELETE FROM deleted_record WHERE schema_name = 't09';
SET client_min_messages = warning;
DROP SCHEMA t09 CASCADE;
