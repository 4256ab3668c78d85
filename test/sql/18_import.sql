-- 18_import: off soft deletion in one call (issue 19, item 2). deleted_record_import moves the
-- soft-deleted rows of a table into the archive with their own deletion time, actor and reason,
-- in committed batches, resumable after an interruption without duplicates or losses; foreign
-- keys act as the table's constraints say; a dry run reports what would move; progress is
-- reported per batch (its rate in the DETAIL, left out here with VERBOSITY terse).
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dr_importer;
RESET client_min_messages;
CREATE SCHEMA t18;
SET search_path = t18, public;
SET TimeZone = 'UTC';

CREATE TABLE account (id int PRIMARY KEY, name text NOT NULL, email text, balance numeric(12,2),
                      deleted_at timestamptz, deleted_by text, delete_reason text);
CREATE TABLE note (id int PRIMARY KEY, account_id int NOT NULL REFERENCES account ON DELETE CASCADE, body text);
CREATE TABLE payment (id int PRIMARY KEY, account_id int REFERENCES account);
INSERT INTO account SELECT g, 'account ' || g, 'user' || g || '@example.com', g * 1.25,
                           CASE WHEN g % 2 = 0 THEN timestamptz '2024-01-01 00:00:00+00' + g * interval '1 day' END,
                           CASE WHEN g % 2 = 0 THEN 'clerk' || g % 3 END,
                           CASE WHEN g % 4 = 0 THEN 'closed by customer' END
                      FROM generate_series(1, 20) g;
INSERT INTO note VALUES (1, 2, 'note of a soft-deleted account'), (2, 3, 'note of a live one'), (3, 4, 'another');
INSERT INTO payment VALUES (1, 1), (2, 6);

-- (1) Errors, each changing nothing: not attached; bad arguments; inside a transaction block;
-- an expression that is not boolean; not the table's owner.
CALL deleted_record_import('account', 'deleted_at IS NOT NULL');
SELECT deleted_record_attach('account', mask_columns => '{email}'), deleted_record_attach('note');
CALL deleted_record_import('account', NULL);
CALL deleted_record_import('account', ' ');
CALL deleted_record_import('account', 'deleted_at IS NOT NULL', batch_size => 0);
CALL deleted_record_import('account', 'deleted_at IS NOT NULL', dry_run => NULL);
BEGIN;
CALL deleted_record_import('account', 'deleted_at IS NOT NULL');
ROLLBACK;
CALL deleted_record_import('account', 'deleted_by');
CREATE ROLE regress_dr_importer;
GRANT USAGE ON SCHEMA t18 TO regress_dr_importer;
GRANT SELECT, DELETE ON account TO regress_dr_importer;
SET ROLE regress_dr_importer;
SELECT deleted_record_import_batch('t18.account', 'deleted_at IS NOT NULL', NULL, NULL, NULL, 10);
RESET ROLE;
SELECT count(*) AS live_rows, count(deleted_at) AS soft_deleted FROM account;
SELECT count(*) AS archived FROM deleted_record WHERE schema_name = 't18';

-- (2) Dry run: what would move, and what the foreign keys would do; nothing moves.
CALL deleted_record_import('account', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at', dry_run => true);
SELECT count(*) AS live_rows, count(deleted_at) AS soft_deleted FROM account;
SELECT count(*) AS archived FROM deleted_record WHERE schema_name = 't18';

-- (3) An interrupted import: a NO ACTION child (payment 2 references soft-deleted account 6)
-- stops it in its second batch of 2 (rows 2, 4 | 6, 8); the first batch stays moved.
CALL deleted_record_import('account', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at', actor => 'deleted_by',
                           reason => 'coalesce(delete_reason, ''soft-deleted'')', batch_size => 2);
SELECT count(*) AS live_rows, count(deleted_at) AS soft_deleted FROM account;
SELECT table_name, object_id FROM deleted_record WHERE schema_name = 't18' ORDER BY table_name, object_id::int;
-- Resumed after the application deals with the payment: the rest moves, nothing twice.
DELETE FROM payment WHERE id = 2;
CALL deleted_record_import('account', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at', actor => 'deleted_by',
                           reason => 'coalesce(delete_reason, ''soft-deleted'')', batch_size => 3);
SELECT count(*) AS live_rows, count(deleted_at) AS soft_deleted FROM account;
SELECT count(*) AS archived, count(DISTINCT object_id) AS distinct_ids FROM deleted_record
 WHERE schema_name = 't18' AND table_name = 'account';
-- Each archive row has its own deletion time, actor and reason; masking applied as for any
-- delete; the note of account 2 went with it (CASCADE) and was archived, at the import's time.
SELECT object_id, deleted_at, updated_at = deleted_at AS updated_same, actor, reason,
       data->>'email' = deleted_record_mask('user' || object_id || '@example.com') AS email_masked,
       data->>'balance' AS balance
  FROM deleted_record WHERE schema_name = 't18' AND table_name = 'account' ORDER BY object_id::int;
SELECT object_id, deleted_at > now() - interval '1 hour' AS archived_now FROM deleted_record
 WHERE schema_name = 't18' AND table_name = 'note';
SELECT id FROM note ORDER BY id;
-- Nothing left: a second call moves nothing.
CALL deleted_record_import('account', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at');

-- (4) Undelete a migrated row: it comes back as it was (soft-delete columns included), without
-- its masked email (masked => 'null').
SELECT count(*) AS restored FROM deleted_record_restore(
    ARRAY(SELECT id FROM deleted_record WHERE schema_name = 't18' AND table_name = 'account' AND object_id = '10'), masked => 'null');
SELECT id, name, email, balance, deleted_at, deleted_by, delete_reason FROM account WHERE id = 10;

-- (5) A boolean flag, no deletion time given (the import's time), the session's context as
-- actor and reason; a table without a key, with duplicate rows.
CREATE TABLE tag (label text, is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO tag VALUES ('red', true), ('red', true), ('blue', false), ('green', true);
SELECT deleted_record_attach('tag');
SET deleted_record.actor = 'migration';
CALL deleted_record_import('tag', 'is_deleted');
RESET deleted_record.actor;
SELECT label FROM tag;
SELECT data->>'label' AS label, object_id, actor, reason, deleted_at > now() - interval '1 hour' AS deleted_now
  FROM deleted_record WHERE schema_name = 't18' AND table_name = 'tag' ORDER BY 1;

-- (6) A partitioned table: rows of every partition move, archived under the root's name with
-- their partition.
CREATE TABLE event (id int, at date, gone_at timestamptz, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE event_2024 PARTITION OF event FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE event_2025 PARTITION OF event FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
SELECT deleted_record_attach('event');
INSERT INTO event VALUES (1, '2024-03-01', '2024-04-01'), (2, '2025-03-01', '2025-04-01'), (3, '2025-05-01', NULL);
CALL deleted_record_import('event', 'gone_at IS NOT NULL', deleted_at => 'gone_at', batch_size => 1);
SELECT id FROM event;
SELECT table_name, partition_name, object_id, deleted_at FROM deleted_record
 WHERE schema_name = 't18' AND table_name = 'event' ORDER BY object_id;

-- (7) The README's migration: the soft-delete columns kept out of data (the archive's own
-- columns take their values), imported, the columns dropped last; a migrated row then comes back
-- live.
CREATE TABLE ticket (id int PRIMARY KEY, title text NOT NULL, deleted_at timestamptz, deleted_by text, delete_reason text);
INSERT INTO ticket VALUES (1, 'Printer on fire', NULL, NULL, NULL),
                          (2, 'Duplicate of #1', '2025-06-01 10:00+00', 'support:bob', 'duplicate'),
                          (3, 'Buy cheap watches', '2025-07-15 08:30+00', 'support:carol', 'spam');
SELECT deleted_record_attach('ticket', exclude_columns => '{deleted_at,deleted_by,delete_reason}');
CALL deleted_record_import('ticket', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at', actor => 'deleted_by',
                           reason => 'delete_reason');
SELECT object_id, data, deleted_at, actor, reason, excluded_columns FROM deleted_record
 WHERE schema_name = 't18' AND table_name = 'ticket' ORDER BY object_id;
ALTER TABLE ticket DROP COLUMN deleted_at, DROP COLUMN deleted_by, DROP COLUMN delete_reason;
SELECT outcome FROM deleted_record_restore(ARRAY(SELECT id FROM deleted_record WHERE schema_name = 't18'
                                                   AND table_name = 'ticket' AND object_id = '2'));
SELECT * FROM ticket ORDER BY id;

-- (8) Columns named like the import's own aliases (d, t) are only columns: nothing of the
-- table's can stand for the row or the batch.
CREATE TABLE parcel (id int PRIMARY KEY, d int, t text, deleted_at timestamptz);
INSERT INTO parcel VALUES (1, 7, 'x', '2025-01-01'), (2, 8, 'y', NULL);
SELECT deleted_record_attach('parcel', exclude_columns => '{deleted_at}');
CALL deleted_record_import('parcel', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at');
SELECT object_id, data, deleted_at FROM public.deleted_record WHERE schema_name = 't18' AND table_name = 'parcel';
SELECT id FROM parcel;

-- (9) require_context counts what the import stamps: actor and reason expressions satisfy it for
-- the rows that have them; a row whose actor expression is NULL, or an import without an actor
-- expression and no session actor, is refused and moves nothing.
CREATE TABLE lead (id int PRIMARY KEY, deleted_at timestamptz, deleted_by text, delete_reason text);
INSERT INTO lead VALUES (1, '2025-02-01', 'sales:ann', 'lost'), (2, '2025-02-02', NULL, 'lost'), (3, NULL, NULL, NULL);
SELECT deleted_record_attach('lead', exclude_columns => '{deleted_at,deleted_by,delete_reason}');
SET deleted_record.require_context = 'actor_and_reason';
CALL deleted_record_import('lead', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at', actor => 'deleted_by');
CALL deleted_record_import('lead', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at', actor => 'deleted_by',
                           reason => 'delete_reason');
SELECT count(*) AS still_in_table FROM lead;
UPDATE lead SET deleted_by = 'sales:bo' WHERE id = 2;
CALL deleted_record_import('lead', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at', actor => 'deleted_by',
                           reason => 'delete_reason');
SELECT object_id, actor, reason FROM deleted_record WHERE schema_name = 't18' AND table_name = 'lead' ORDER BY object_id;
RESET deleted_record.require_context;

SET client_min_messages = warning;
DROP SCHEMA t18 CASCADE;
DROP ROLE regress_dr_importer;
