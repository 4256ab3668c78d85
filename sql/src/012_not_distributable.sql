-- Citus distributes, or makes a reference or local Citus table of, any table it is asked to:
-- the archive too, after which every archived row would vanish into the local heap of a table
-- that Citus reads from elsewhere. Citus refuses tables with triggers, and triggers that depend
-- on an extension even when told to allow triggers: this one never fires (WHEN (false)) and
-- exists only for that refusal.
CREATE FUNCTION deleted_record_not_distributable() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    RAISE EXCEPTION 'deleted_record_not_distributable() is never meant to run';
END
$$;
COMMENT ON FUNCTION deleted_record_not_distributable() IS 'Internal: the never-firing trigger that keeps Citus from distributing the archive';
CREATE TRIGGER deleted_record_not_distributable BEFORE UPDATE ON deleted_record
    FOR EACH STATEMENT WHEN (false) EXECUTE FUNCTION deleted_record_not_distributable();
ALTER TRIGGER deleted_record_not_distributable ON deleted_record DEPENDS ON EXTENSION deleted_record;
COMMENT ON TRIGGER deleted_record_not_distributable ON deleted_record IS 'Never fires; makes Citus refuse to distribute the archive';
