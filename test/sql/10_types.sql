-- 10_types: every kind of column type archives with data = to_jsonb(row), or the DELETE fails
-- with a clear error and the row stays; a 1,600-column table; a large TOASTed value.
\set SHOW_CONTEXT never
CREATE SCHEMA t10;
SET search_path = t10, public;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, MDY';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 1;
SET bytea_output = 'hex';

CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');
CREATE TYPE color AS ENUM ('red', 'green', 'blue');
CREATE TYPE inner_t AS (x int, label text);
CREATE TYPE outer_t AS (a inner_t, when_ timestamptz, tags text[]);
CREATE TABLE ty (
    id      int PRIMARY KEY,
    dom     posint,
    dom_t   email,
    en      color,
    ens     color[],
    comp    outer_t,
    comps   inner_t[],
    arr2    int[],
    arr3    text[],
    arrnull text[],
    arrlb   int[],
    rng     int4range,
    rng_e   numrange,
    rng_inf tsrange,
    mrng    int4multirange,
    mrng_e  datemultirange,
    b       bytea,
    m       money,
    dinf    date,
    dninf   date,
    tsinf   timestamp,
    tsninf  timestamp,
    tzinf   timestamptz,
    nnan    numeric,
    ninf    numeric,
    n_big   numeric,
    f4nan   real,
    js      json,
    jb      jsonb,
    x       xml,
    addr    inet,
    net     cidr,
    mac     macaddr,
    pt      point,
    bx      box,
    tsv     tsvector,
    bits    bit varying,
    u       uuid,
    lsn     pg_lsn,
    c3      char(3),
    vc      varchar(10),
    "char"  "char",
    i2      smallint,
    i8      bigint,
    o       oid,
    nul     text
);
INSERT INTO ty VALUES (
    1, 5, 'a@b.c', 'green', '{red,blue}',
    ROW(ROW(1, 'in "q"'), '2024-05-01 00:00:00+00', '{x,NULL}'),
    ARRAY[ROW(1, 'a'), ROW(2, NULL)]::inner_t[],
    '{{1,2},{3,4}}',
    '{{{a,b},{c,d}},{{e,f},{g,"h i"}}}',
    '{NULL,x,NULL}',
    '[0:1]={7,8}',
    '[1,10)', 'empty', '(,"2024-01-01 00:00:00")',
    '{[1,3), [5,8)}', '{}',
    '\x00deadbeef00'::bytea,
    12.34,
    'infinity', '-infinity', 'infinity', '-infinity', 'infinity',
    'NaN', 'Infinity', 1e-30 + 12345678901234567890123456789,
    'NaN',
    '{"b": 1, "a": [1, 2], "b": 2}',
    '{"z": {"y": [1.0, "1.0", false]}, "a": null}',
    '<a attr="1">text &amp; more</a>',
    '192.168.1.1/24', '10.0.0.0/8', '08:00:2b:01:02:03',
    '(1.5,-2)', '((0,0),(1,1))',
    'a fat cat sat', B'10110',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '16/B374D848',
    'ab', 'short', 'z',
    -32768, 9223372036854775807,
    4294967295,
    NULL
);
CREATE TEMP TABLE ty_copy AS SELECT to_jsonb(t) AS j FROM ty t;
SELECT deleted_record_attach('ty');
DELETE FROM ty;
SELECT data = (SELECT j FROM ty_copy) AS data_is_to_jsonb, object_id FROM deleted_record
 WHERE schema_name = 't10' AND table_name = 'ty';
SELECT key, value FROM deleted_record, jsonb_each(data)
 WHERE schema_name = 't10' AND table_name = 'ty' ORDER BY key;

-- A json value that to_jsonb rejects (\u0000): the DELETE fails clearly, the row stays, nothing archived.
CREATE TABLE badjson (id int PRIMARY KEY, js json);
SELECT deleted_record_attach('badjson');
INSERT INTO badjson VALUES (1, '{"a": "\u0000"}'), (2, '{"a": "ok"}');
DELETE FROM badjson WHERE id = 1;
DELETE FROM badjson;
SELECT id FROM badjson ORDER BY id;
SELECT count(*) AS archived FROM deleted_record WHERE schema_name = 't10' AND table_name = 'badjson';
DELETE FROM badjson WHERE id = 2;
SELECT object_id, data FROM deleted_record WHERE schema_name = 't10' AND table_name = 'badjson';

-- A table with 1,600 columns (the maximum), some NULL.
DO $$
BEGIN
  EXECUTE format('CREATE TABLE t10.wide (%s)',
                 (SELECT string_agg(format('c%s int', g), ', ' ORDER BY g) FROM generate_series(1, 1600) g));
  EXECUTE 'ALTER TABLE t10.wide ADD PRIMARY KEY (c1)';
  EXECUTE format('INSERT INTO t10.wide VALUES (%s)',
                 (SELECT string_agg(CASE WHEN g % 7 = 0 THEN 'NULL' ELSE g::text END, ', ' ORDER BY g)
                    FROM generate_series(1, 1600) g));
END $$;
CREATE TEMP TABLE wide_copy AS SELECT to_jsonb(w) AS j FROM wide w;
SELECT deleted_record_attach('wide');
DELETE FROM wide;
SELECT object_id, data = (SELECT j FROM wide_copy) AS data_is_to_jsonb,
       (SELECT count(*) FROM jsonb_object_keys(data)) AS keys,
       data->>'c1600' AS c1600, data->'c1596' AS c1596
  FROM deleted_record WHERE schema_name = 't10' AND table_name = 'wide';

-- A large TOASTed value (about 2 MB of incompressible text) archives intact.
CREATE TABLE big (id int PRIMARY KEY, body text, blob bytea);
SELECT deleted_record_attach('big');
INSERT INTO big SELECT 1, string_agg(md5(g::text), '' ORDER BY g), decode(string_agg(md5((-g)::text), '' ORDER BY g), 'hex')
  FROM generate_series(1, 60000) g;
CREATE TEMP TABLE big_copy AS SELECT md5(body) AS body_md5, length(body) AS body_len, md5(blob) AS blob_md5 FROM big;
DELETE FROM big;
SELECT length(data->>'body') AS body_len, md5(data->>'body') = (SELECT body_md5 FROM big_copy) AS body_intact,
       md5(decode(substr(data->>'blob', 3), 'hex')) = (SELECT blob_md5 FROM big_copy) AS blob_intact
  FROM deleted_record WHERE schema_name = 't10' AND table_name = 'big';

-- Clean up.
DELETE FROM deleted_record WHERE schema_name = 't10';
SET client_min_messages = warning;
DROP SCHEMA t10 CASCADE;
