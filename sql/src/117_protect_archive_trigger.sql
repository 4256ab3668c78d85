-- The event trigger that runs deleted_record_protect_archive (116), apart from the function so
-- that an update script can replace the function alone (--@include 116_protect_archive).
CREATE EVENT TRIGGER deleted_record_protect_archive ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION')
    EXECUTE FUNCTION deleted_record_protect_archive();
COMMENT ON EVENT TRIGGER deleted_record_protect_archive IS 'Refuses DROP EXTENSION deleted_record while tables are attached';
