-- deleted_record_follow_columns keeps column policies (exclude_columns, mask_columns) in step
-- with the table: a renamed column keeps its policy under its new name, a dropped column's
-- policy goes with it.
CREATE FUNCTION deleted_record_follow_columns() RETURNS event_trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'deleted_record_follow_columns';
COMMENT ON FUNCTION deleted_record_follow_columns() IS 'Event trigger: column policies follow column renames and drops';
CREATE EVENT TRIGGER deleted_record_follow_columns ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE')
    EXECUTE FUNCTION deleted_record_follow_columns();
COMMENT ON EVENT TRIGGER deleted_record_follow_columns IS 'Column policies of attached tables follow column renames and drops';
