-- deleted_record_attached lists the tables whose deletes are archived: every table with an
-- archive trigger of its own, whatever the trigger's name (partitions are not listed), with its
-- TRUNCATE policy, retention and column policies (the archive trigger's argument).
CREATE VIEW deleted_record_attached AS
SELECT a.table_name, a.on_truncate,
       (a.options OPERATOR(pg_catalog.->>) 'retention')::interval AS retention,
       (SELECT pg_catalog.array_agg(x.name ORDER BY x.n) FROM pg_catalog.jsonb_array_elements_text(a.options OPERATOR(pg_catalog.->) 'exclude') WITH ORDINALITY x(name, n)) AS exclude_columns,
       (SELECT pg_catalog.array_agg(x.name ORDER BY x.n) FROM pg_catalog.jsonb_array_elements_text(a.options OPERATOR(pg_catalog.->) 'mask') WITH ORDINALITY x(name, n)) AS mask_columns
  FROM (SELECT t.tgrelid::pg_catalog.regclass AS table_name,
               coalesce((SELECT pg_catalog.convert_from(pg_catalog.substring(g.tgargs, 1, pg_catalog.length(g.tgargs) OPERATOR(pg_catalog.-) 1), 'SQL_ASCII')
                           FROM pg_catalog.pg_trigger g
                          WHERE g.tgrelid OPERATOR(pg_catalog.=) t.tgrelid
                            AND g.tgfoid OPERATOR(pg_catalog.=) guard.oid
                          LIMIT 1), 'ignore') AS on_truncate,
               (SELECT pg_catalog.convert_from(pg_catalog.substring(o.tgargs, 1, pg_catalog.length(o.tgargs) OPERATOR(pg_catalog.-) 1),
                                               pg_catalog.current_setting('server_encoding'))::jsonb
                  FROM pg_catalog.pg_trigger o
                 WHERE o.tgrelid OPERATOR(pg_catalog.=) t.tgrelid AND o.tgfoid OPERATOR(pg_catalog.=) p.oid
                   AND o.tgparentid OPERATOR(pg_catalog.=) 0 AND o.tgnargs OPERATOR(pg_catalog.=) 1 AND o.tgqual IS NULL
                 ORDER BY o.tgname LIMIT 1) AS options
          FROM pg_catalog.pg_trigger t
          JOIN pg_catalog.pg_extension e ON e.extname OPERATOR(pg_catalog.=) 'deleted_record'
          JOIN pg_catalog.pg_proc p ON p.pronamespace OPERATOR(pg_catalog.=) e.extnamespace
                                   AND p.proname OPERATOR(pg_catalog.=) 'deleted_record_insert'
                                   AND p.pronargs OPERATOR(pg_catalog.=) 0
          JOIN pg_catalog.pg_proc guard ON guard.pronamespace OPERATOR(pg_catalog.=) e.extnamespace
                                       AND guard.proname OPERATOR(pg_catalog.=) 'deleted_record_truncate_guard'
                                       AND guard.pronargs OPERATOR(pg_catalog.=) 0
         WHERE t.tgfoid OPERATOR(pg_catalog.=) p.oid
           AND t.tgparentid OPERATOR(pg_catalog.=) 0
           AND deleted_record_shard_of(t.tgrelid) IS NULL
         GROUP BY t.tgrelid, guard.oid, p.oid) a;
GRANT SELECT ON deleted_record_attached TO PUBLIC;
COMMENT ON VIEW deleted_record_attached IS 'Tables whose deletes are archived, with their TRUNCATE policy (partitions are not listed)';
COMMENT ON COLUMN deleted_record_attached.table_name IS 'The attached table';
COMMENT ON COLUMN deleted_record_attached.on_truncate IS 'archive, deny or ignore';
COMMENT ON COLUMN deleted_record_attached.retention IS 'How long deleted_record_purge keeps the table''s archive rows (NULL: forever)';
COMMENT ON COLUMN deleted_record_attached.exclude_columns IS 'Columns never archived';
COMMENT ON COLUMN deleted_record_attached.mask_columns IS 'Columns archived as a keyed hash (deleted_record_mask)';
