-- deleted_record 1.2 (assembled from sql/src/ by sql/assemble.sh: edit those files, not this one): the archive table, the trigger functions and the SQL API.
-- Hardening: no CREATE OR REPLACE / IF NOT EXISTS (a pre-created object makes CREATE EXTENSION
-- fail instead of being adopted), no substitution of the schema name (schema names with quotes
-- or $ must work, and PostgreSQL refuses to substitute those), every catalog reference
-- qualified with pg_catalog, helper functions pin search_path, objects found by OID.
\echo Use "CREATE EXTENSION deleted_record" to load this file. \quit
