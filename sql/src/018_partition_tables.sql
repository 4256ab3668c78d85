-- Which attached tables have rows in each closed partition: computed once by the purge (a
-- closed partition gets no new rows), so that purging never rescans partitions it keeps.
CREATE TABLE deleted_record_partition_tables (
    partition_name name NOT NULL,
    schema_name    text COLLATE "C" NOT NULL,
    table_name     text COLLATE "C" NOT NULL,
    PRIMARY KEY (partition_name, schema_name, table_name)
);
REVOKE ALL ON TABLE deleted_record_partition_tables FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('deleted_record_partition_tables', '');
COMMENT ON TABLE deleted_record_partition_tables IS 'Internal: the tables whose rows each closed archive partition holds (kept by deleted_record_purge)';
