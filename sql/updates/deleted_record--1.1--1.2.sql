-- deleted_record 1.1 -> 1.2 (assembled by sql/assemble.sh: "--@include NAME" brings in
-- sql/src/NAME.sql as CREATE OR REPLACE). Only what changed since 1.1 belongs here.
\echo Use "ALTER EXTENSION deleted_record UPDATE TO '1.2'" to load this file. \quit

-- H2: restore and dry run that can be trusted. deleted_record_restore, restore_transaction and
-- cluster_restore take masked => 'error' | 'null'; restore_transaction also takes xact text (an
-- xact_key, or a decimal xact_id). Signatures change, so the 1.1 functions are dropped first.
DROP FUNCTION deleted_record_restore(uuid[], text, boolean);
DROP FUNCTION deleted_record_restore_transaction(bigint, text, boolean);
DROP FUNCTION deleted_record_restore_transaction(xid8, text, boolean);
DROP FUNCTION deleted_record_cluster_restore(uuid[], text, boolean);
--@include 080_restore
--@include 082_restore_transaction
--@include 102_cluster_restore
