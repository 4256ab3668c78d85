-- deleted_record_insert is the AFTER DELETE FOR EACH ROW trigger that archives OLD.
CREATE FUNCTION deleted_record_insert() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'deleted_record_insert';
COMMENT ON FUNCTION deleted_record_insert() IS 'AFTER DELETE FOR EACH ROW trigger: archives the deleted row into deleted_record';
