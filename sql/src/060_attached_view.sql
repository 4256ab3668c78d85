-- deleted_record_attached lists the tables whose deletes are archived: every table with an
-- archive trigger of its own, whatever the trigger's name (partitions are not listed), with its
-- TRUNCATE policy, retention and column policies: the attachment contract, as
-- deleted_record_attachments() reads it.
CREATE VIEW deleted_record_attached AS
SELECT a.relation AS table_name, a.on_truncate COLLATE "C" AS on_truncate, a.retention, a.exclude_columns, a.mask_columns, a.attachment_id
  FROM deleted_record_attachments() a;
GRANT SELECT ON deleted_record_attached TO PUBLIC;
COMMENT ON VIEW deleted_record_attached IS 'Tables whose deletes are archived, with their TRUNCATE policy (partitions are not listed)';
COMMENT ON COLUMN deleted_record_attached.table_name IS 'The attached table';
COMMENT ON COLUMN deleted_record_attached.on_truncate IS 'archive, deny or ignore';
COMMENT ON COLUMN deleted_record_attached.retention IS 'How long deleted_record_purge keeps the table''s archive rows (NULL: forever)';
COMMENT ON COLUMN deleted_record_attached.exclude_columns IS 'Columns never archived';
COMMENT ON COLUMN deleted_record_attached.mask_columns IS 'Columns archived as a keyed hash (deleted_record_mask)';
COMMENT ON COLUMN deleted_record_attached.attachment_id IS 'The table''s identity for retention (kept in its archive trigger''s argument)';
