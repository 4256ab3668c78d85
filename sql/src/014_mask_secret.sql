-- The key of masked columns: one random secret per database, readable only by the extension's
-- owner. The oldest row is the one in use (a restored dump's secret is older than the one a
-- fresh CREATE EXTENSION makes, so masked values stay comparable across dump and restore).
CREATE TABLE deleted_record_secret (
    created_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    secret     bytea       NOT NULL CHECK (pg_catalog.octet_length(secret) >= 32)
);
REVOKE ALL ON TABLE deleted_record_secret FROM PUBLIC;
INSERT INTO deleted_record_secret (secret)
SELECT pg_catalog.decode(pg_catalog.replace(pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text
                                            || pg_catalog.gen_random_uuid()::text, '-', ''), 'hex');
SELECT pg_catalog.pg_extension_config_dump('deleted_record_secret', '');
COMMENT ON TABLE deleted_record_secret IS 'Key of the HMAC that masks columns (the oldest row is used); readable by the extension owner only';
