-- Legal holds: named holds that keep archive rows from purge and erasure until released. Each
-- hold and each release is recorded here (who, when, why); a released hold stays as history.
-- Placing and releasing holds is a grant of its own (EXECUTE on deleted_record_hold and
-- deleted_record_release), like erasure; reading the list needs SELECT on deleted_record_holds.
CREATE TABLE deleted_record_holds (
    name          text        NOT NULL,
    reason        text        NOT NULL,
    schema_name   text        COLLATE "C",
    table_name    text        COLLATE "C",
    table_oid     oid,
    attachment_ids uuid[]     NOT NULL DEFAULT '{}',
    object_id     text        COLLATE "C",
    deleted_from  timestamptz,
    deleted_until timestamptz,
    held_at       timestamptz NOT NULL DEFAULT pg_catalog.transaction_timestamp(),
    held_by       text        NOT NULL,
    held_by_session_user text NOT NULL,
    released_at   timestamptz,
    released_by   text,
    released_by_session_user text
);
-- One hold of a name at a time; released holds of that name stay as history.
CREATE UNIQUE INDEX deleted_record_holds_active_name ON deleted_record_holds (name) WHERE released_at IS NULL;
REVOKE ALL ON TABLE deleted_record_holds FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('deleted_record_holds', '');
COMMENT ON TABLE deleted_record_holds IS 'Legal holds, placed by deleted_record_hold and released by deleted_record_release: held archive rows are neither purged nor erased';
COMMENT ON COLUMN deleted_record_holds.name IS 'The hold''s name (one active hold per name)';
COMMENT ON COLUMN deleted_record_holds.reason IS 'Why the rows are held (required)';
COMMENT ON COLUMN deleted_record_holds.schema_name IS 'Schema of the held table as archive rows name it (NULL: every table)';
COMMENT ON COLUMN deleted_record_holds.table_name IS 'The held table as archive rows name it: the partition root for a partition (NULL: every table)';
COMMENT ON COLUMN deleted_record_holds.table_oid IS 'The held table while it exists (0 once dropped): each attachment it gets later joins attachment_ids';
COMMENT ON COLUMN deleted_record_holds.attachment_ids IS 'The held table''s attachments (identities), at hold time and since: rows archived under any of them, whatever the table''s names then, are held';
COMMENT ON COLUMN deleted_record_holds.object_id IS 'The held object''s object_id (NULL: every object of the table)';
COMMENT ON COLUMN deleted_record_holds.deleted_from IS 'Held rows were deleted at or after this time (NULL: no lower bound)';
COMMENT ON COLUMN deleted_record_holds.deleted_until IS 'Held rows were deleted before this time (NULL: no upper bound)';
COMMENT ON COLUMN deleted_record_holds.held_at IS 'When the hold was placed';
COMMENT ON COLUMN deleted_record_holds.held_by IS 'Role that placed it (current_user)';
COMMENT ON COLUMN deleted_record_holds.held_by_session_user IS 'Session user (the login, before SET ROLE or SECURITY DEFINER) that placed it';
COMMENT ON COLUMN deleted_record_holds.released_at IS 'When it was released; NULL while it holds';
COMMENT ON COLUMN deleted_record_holds.released_by IS 'Role that released it (current_user)';
COMMENT ON COLUMN deleted_record_holds.released_by_session_user IS 'Session user (the login) that released it';

-- deleted_record_hold_rule is the one rule of what a hold covers, as SQL for the statements
-- that need it (purge and erasure, which run as the owner). A hold on a table covers the rows
-- archived under the names it had when held, under any window of its attachments, and under
-- the names the held table (table_oid) has now: a partition attached on its own has no
-- registry windows, and its rows follow its root's renames only that way. A scalar expression over the archive
-- row aliased archive_row that gives the name of the first active hold covering it (oldest
-- first), or NULL. An expression rather than a function, so that a purge of many rows asks it
-- set-based; the extension's schema is looked up on each call, as everywhere.
CREATE FUNCTION deleted_record_hold_rule(archive_row name) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    RETURN pg_catalog.format($q$(SELECT h.name FROM %1$I.deleted_record_holds h
          WHERE h.released_at IS NULL
            AND (h.table_name IS NULL
                 OR (h.schema_name OPERATOR(pg_catalog.=) %2$I.schema_name AND h.table_name OPERATOR(pg_catalog.=) %2$I.table_name)
                 OR EXISTS (SELECT FROM %1$I.deleted_record_attachment w
                             WHERE w.attachment_id OPERATOR(pg_catalog.=) ANY (h.attachment_ids)
                               AND w.schema_name OPERATOR(pg_catalog.=) %2$I.schema_name
                               AND w.table_name OPERATOR(pg_catalog.=) %2$I.table_name
                               AND w.from_id OPERATOR(pg_catalog.<=) %2$I.id
                               AND (w.until_id IS NULL OR w.until_id OPERATOR(pg_catalog.>) %2$I.id))
                 OR EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
                             WHERE h.table_oid OPERATOR(pg_catalog.<>) 0 AND c.oid OPERATOR(pg_catalog.=) h.table_oid
                               AND c.relname OPERATOR(pg_catalog.=) %2$I.table_name
                               AND n.nspname OPERATOR(pg_catalog.=) %2$I.schema_name))
            AND (h.object_id IS NULL OR h.object_id OPERATOR(pg_catalog.=) %2$I.object_id)
            AND (h.deleted_from IS NULL OR %2$I.deleted_at OPERATOR(pg_catalog.>=) h.deleted_from)
            AND (h.deleted_until IS NULL OR %2$I.deleted_at OPERATOR(pg_catalog.<) h.deleted_until)
          ORDER BY h.held_at, h.name LIMIT 1)$q$, ext_schema, archive_row);
END
$$;
REVOKE ALL ON FUNCTION deleted_record_hold_rule(name) FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_hold_rule(name) IS 'Internal: what a legal hold covers, as an SQL expression over an archive row (the covering hold''s name, or NULL)';

-- deleted_record_hold places a named legal hold over the archive rows of a table (for_table),
-- of one of its objects (for_object, its object_id), of a range of deletion times, or of a
-- combination; with none of them, over the whole archive. For roles the DBA grants it to.
CREATE FUNCTION deleted_record_hold(name text, reason text, for_table regclass DEFAULT NULL, for_object text DEFAULT NULL,
                                    deleted_from timestamptz DEFAULT NULL, deleted_until timestamptz DEFAULT NULL)
    RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_hold';
REVOKE ALL ON FUNCTION deleted_record_hold(text, text, regclass, text, timestamptz, timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_hold(text, text, regclass, text, timestamptz, timestamptz) IS 'Places a named legal hold: the archive rows it covers are neither purged nor erased until it is released';

-- deleted_record_release releases the named hold (recorded with who and when); the next purge
-- removes what it kept, if expired.
CREATE FUNCTION deleted_record_release(name text) RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_release';
REVOKE ALL ON FUNCTION deleted_record_release(text) FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_release(text) IS 'Releases a named legal hold (kept in deleted_record_holds as history)';

-- deleted_record_holds_follow_table keeps a hold on a table following that table, whatever its
-- later names and identities: a trigger on the attachment registry, which gets a row whenever
-- a table gets an attachment (attached again after a detach, say) or a window under new names.
-- An attachment registered to a held table joins the hold's attachment_ids; an attachment of
-- the hold handed to another OID (pg_restore: the same table under a new OID) moves table_oid;
-- once the held table is dropped, table_oid becomes 0 (no later table with its OID is held).
-- The registry is written by the extension owner (the deleted_record_follow_attachments event
-- trigger) or by a superuser rebinding an attachment, who both may write the holds.
CREATE FUNCTION deleted_record_holds_follow_table() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    -- Against a hold placed meanwhile on the same table: placing one takes this lock exclusively
    -- and then reads the registry afresh (kHoldsLock in holds.cpp); whichever comes second sees
    -- the other's work.
    PERFORM pg_catalog.pg_advisory_xact_lock_shared(1146243140, 0);
    IF NEW.relid OPERATOR(pg_catalog.<>) 0 THEN
        EXECUTE pg_catalog.format($q$
            UPDATE %1$I.deleted_record_holds h SET attachment_ids = h.attachment_ids OPERATOR(pg_catalog.||) $2
             WHERE h.released_at IS NULL AND h.table_oid OPERATOR(pg_catalog.=) $1
               AND NOT $2 OPERATOR(pg_catalog.=) ANY (h.attachment_ids)$q$, TG_TABLE_SCHEMA)
          USING NEW.relid, NEW.attachment_id;
        EXECUTE pg_catalog.format($q$
            UPDATE %1$I.deleted_record_holds h SET table_oid = $1
             WHERE h.released_at IS NULL AND $2 OPERATOR(pg_catalog.=) ANY (h.attachment_ids)
               AND h.table_oid OPERATOR(pg_catalog.<>) $1$q$, TG_TABLE_SCHEMA)
          USING NEW.relid, NEW.attachment_id;
    ELSIF TG_OP OPERATOR(pg_catalog.=) 'UPDATE' AND OLD.relid OPERATOR(pg_catalog.<>) 0
          AND NOT EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) OLD.relid) THEN
        EXECUTE pg_catalog.format($q$
            UPDATE %1$I.deleted_record_holds h SET table_oid = 0
             WHERE h.released_at IS NULL AND h.table_oid OPERATOR(pg_catalog.=) $1$q$, TG_TABLE_SCHEMA)
          USING OLD.relid;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION deleted_record_holds_follow_table() FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_holds_follow_table() IS 'Internal: a hold on a table follows the table''s later attachments (trigger on deleted_record_attachment)';
-- Named without the deleted_record prefix, which marks the archive triggers of attached tables.
CREATE TRIGGER holds_follow_table AFTER INSERT OR UPDATE OF relid ON deleted_record_attachment
    FOR EACH ROW EXECUTE FUNCTION deleted_record_holds_follow_table();

-- deleted_record_exists_now tells whether a query returns a row under the latest snapshot rather
-- than the transaction's: under REPEATABLE READ and SERIALIZABLE the purge (plpgsql, which cannot
-- choose its snapshot) sees through it a hold or a row committed while it waited for a lock.
-- deleted_record_view asks it too, as the table's owner, about the table's columns. It runs the
-- query as the caller with the caller's rights (row-level security included): nothing a caller
-- could not run in a DO block, so it stays executable by PUBLIC. Internal.
CREATE FUNCTION deleted_record_exists_now(query text) RETURNS boolean
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_exists_now';
COMMENT ON FUNCTION deleted_record_exists_now(text) IS 'Internal: whether a query returns a row under the latest snapshot (purge''s checks of holds under REPEATABLE READ)';
