-- deleted_record_shard_of returns the Citus table relation is a shard of, or NULL (also
-- without Citus): shards carry copies of their table's triggers but are not attached tables.
CREATE FUNCTION deleted_record_shard_of(relation regclass) RETURNS regclass
    LANGUAGE c STABLE STRICT
    AS 'MODULE_PATHNAME', 'deleted_record_shard_of';
COMMENT ON FUNCTION deleted_record_shard_of(regclass) IS 'The Citus table a relation is a shard of, or NULL';
