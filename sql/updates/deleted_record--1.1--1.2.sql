-- deleted_record 1.1 -> 1.2 (assembled by sql/assemble.sh: "--@include NAME" brings in
-- sql/src/NAME.sql as CREATE OR REPLACE). Only what changed since 1.1 belongs here.
\echo Use "ALTER EXTENSION deleted_record UPDATE TO '1.2'" to load this file. \quit
