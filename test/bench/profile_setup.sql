-- The table test/bench/profile.sh and compare_revisions.sh profile a DELETE of: :rows invoices
-- of 11 columns, attached, vacuumed and checkpointed (psql -v rows=N -f profile_setup.sql).
CREATE EXTENSION deleted_record;
CREATE TABLE invoice (
    id uuid PRIMARY KEY, customer_id bigint, number text, amount numeric(12,2), currency char(3),
    status text, issued_at timestamptz, due_on date, tags text[], lines jsonb, notes text);
INSERT INTO invoice
SELECT gen_random_uuid(), g, 'INV-' || lpad(g::text, 8, '0'), (g % 100000) / 100.0, 'EUR', 'open',
       '2024-01-01'::timestamptz + g * interval '1 minute', '2024-02-01'::date + g % 30,
       ARRAY['b2b', 'q' || (g % 4 + 1)], jsonb_build_object('sku', 'SKU-' || g % 1000, 'qty', g % 7 + 1),
       'customer asked for paper copy ' || md5(g::text)
  FROM generate_series(1, :rows) g;
SELECT FROM deleted_record_attach('invoice');
VACUUM ANALYZE invoice;
CHECKPOINT;
