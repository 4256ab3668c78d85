-- deleted_record 1.1 -> 1.2 (assembled by sql/assemble.sh: "--@include NAME" brings in
-- sql/src/NAME.sql as CREATE OR REPLACE). Only what changed since 1.1 belongs here.
\echo Use "ALTER EXTENSION deleted_record UPDATE TO '1.2'" to load this file. \quit

-- H1: partition upkeep for the DBA only, and for everyone through
-- deleted_record_prepare_coming_partitions (finding 11 of issue 15); cluster_erase names its
-- operator and types with pg_catalog (finding 1).
--@include 030_prepare_partitions
--@include 104_cluster_erase
REVOKE ALL ON FUNCTION deleted_record_prepare_partitions(integer) FROM PUBLIC;
-- Installs that came from 1.0 have no partitions for the coming periods until something makes
-- them: make them now. Tables created inside an extension script become its members; the
-- archive's partitions must not (pg_dump dumps them with their rows), so they leave it.
SELECT deleted_record_prepare_coming_partitions();
DO $$
DECLARE
    part regclass;
BEGIN
    FOR part IN SELECT d.objid::regclass FROM pg_catalog.pg_depend d
                  JOIN pg_catalog.pg_inherits i ON i.inhrelid OPERATOR(pg_catalog.=) d.objid
                 WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                   AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                   AND d.refobjid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension e
                                                           WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record')
                   AND d.deptype OPERATOR(pg_catalog.=) 'e'
                   AND i.inhparent OPERATOR(pg_catalog.=) 'deleted_record'::pg_catalog.regclass
                   AND d.objid OPERATOR(pg_catalog.<>) 'deleted_record_default'::pg_catalog.regclass LOOP
        EXECUTE pg_catalog.format('ALTER EXTENSION deleted_record DROP TABLE %s', part);
    END LOOP;
END
$$;
