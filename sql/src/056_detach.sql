-- deleted_record_detach stops archiving deletes from target.
CREATE FUNCTION deleted_record_detach(target regclass) RETURNS void
    LANGUAGE sql
BEGIN ATOMIC
    SELECT deleted_record_manage(target, 'detach', NULL, NULL, NULL, NULL);
END;
COMMENT ON FUNCTION deleted_record_detach(regclass) IS 'Stops archiving deletes from the table: removes its archive trigger and TRUNCATE guards';
