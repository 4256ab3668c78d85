-- 34_import_dry_run: the import's dry run lists what the foreign keys would do in the order of
-- the referencing tables' names, and counts children through keys of any column names (a
-- quoted "a, b" included) (review R2, minor findings).
\set SHOW_CONTEXT never
CREATE SCHEMA t34;
SET search_path = t34, public;
CREATE TABLE parent (id int PRIMARY KEY, "a, b" int NOT NULL, deleted_at timestamptz, UNIQUE (id, "a, b"));
-- Constraint names in the opposite order of the tables' names.
CREATE TABLE zeta_child (id int PRIMARY KEY, pid int, "a, b" int,
                         CONSTRAINT a_fk FOREIGN KEY (pid, "a, b") REFERENCES parent (id, "a, b") ON DELETE CASCADE);
CREATE TABLE alpha_child (id int PRIMARY KEY, pid int, "a, b" int,
                          CONSTRAINT z_fk FOREIGN KEY (pid, "a, b") REFERENCES parent (id, "a, b") ON DELETE SET NULL);
INSERT INTO parent VALUES (1, 10, now()), (2, 20, NULL), (3, 30, now());
INSERT INTO zeta_child VALUES (1, 1, 10), (2, 2, 20), (3, 3, 30);
INSERT INTO alpha_child VALUES (1, 1, 10);
SELECT deleted_record_attach('parent') IS NOT NULL AS attached;
CALL deleted_record_import('parent', 'deleted_at IS NOT NULL', dry_run => true);
SELECT count(*) AS parents, (SELECT count(*) FROM zeta_child) AS zeta, (SELECT count(*) FROM alpha_child) AS alpha FROM parent;
SET client_min_messages = warning;
DROP SCHEMA t34 CASCADE;

-- A Citus table is refused with a clear error, before anything moves (Citus' catalog is mimicked
-- here: this suite runs without Citus; test/shell/citus.sh has the real one).
CREATE SCHEMA t34c;
CREATE TABLE t34c.dist (id int PRIMARY KEY, deleted_at timestamptz);
INSERT INTO t34c.dist VALUES (1, now()), (2, NULL);
SELECT deleted_record_attach('t34c.dist') IS NOT NULL AS attached;
SET allow_system_table_mods = on;
CREATE TABLE pg_catalog.pg_dist_partition (logicalrelid regclass NOT NULL);
RESET allow_system_table_mods;
INSERT INTO pg_catalog.pg_dist_partition VALUES ('t34c.dist');
CALL deleted_record_import('t34c.dist', 'deleted_at IS NOT NULL');
CALL deleted_record_import('t34c.dist', 'deleted_at IS NOT NULL', dry_run => true);
SELECT count(*) AS rows_left FROM t34c.dist;
SET allow_system_table_mods = on;
DROP TABLE pg_catalog.pg_dist_partition;
RESET allow_system_table_mods;
SET client_min_messages = warning;
DROP SCHEMA t34c CASCADE;
