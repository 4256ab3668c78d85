# The import benchmark of scripts/bench.sh (--only import), sourced by it after its cluster
# started (it uses bench.sh's sql, median and ratio helpers and its ROUNDS and QUICK settings).
#
# Claim under test: a soft-deleting table moves to the archive in one call at a cost close to
# deleting the same rows with the archive trigger, and a migrated row can be undeleted.
# Layout: a ticket table of IMPORT_ROWS rows (2,000,000; 20,000 with --quick), every other one
# soft-deleted (deleted_at in the past, deleted_by, delete_reason), a foreign-key-free table with
# a primary key and five columns (about 130 bytes as JSON), attached with its soft-delete columns
# excluded (as the README's migration guide does). Each round rebuilds the table from a saved
# copy, empties the archive, vacuums and checkpoints, then times:
#   import    - CALL deleted_record_import(..., batch_size => 10000): 1,000,000 rows moved in 100
#               committed batches, each archived with its own deletion time, actor and reason;
#   reference - the same rows removed by one DELETE ... WHERE deleted_at IS NOT NULL through the
#               archive trigger (one transaction, archived with the delete's time and no actor):
#               what archiving these rows costs anyway.
# After each import it checks that the table holds exactly the live rows, the archive exactly the
# soft-deleted ones, each with its own deleted_at, actor and reason; it reports the archive's size
# (the partitions' heap, indexes and TOAST) against the soft-deleted rows' share of the table, and
# times the undelete of one migrated row (deleted_record_restore of its id), checking it is back
# live (its soft-delete columns NULL: they were excluded).

import_main() {
  local rows=2000000 rounds=$ROUNDS
  [ "$QUICK" -eq 0 ] || rows=20000
  # 2M-row rounds take minutes each on a small machine: at most 3 unless asked for.
  [ "$rounds" -le 3 ] || rounds=3
  local soft=$((rows / 2))
  log "import: building a ticket table of $rows rows, $soft soft-deleted"
  sql >/dev/null <<EOF
CREATE EXTENSION IF NOT EXISTS deleted_record;
CREATE SCHEMA bench_import;
CREATE TABLE bench_import.source AS
  SELECT g::bigint AS id, (g % 5000)::int AS customer_id, 'Ticket number ' || g AS title,
         round((g % 100000) / 100.0, 2)::numeric(12,2) AS amount,
         timestamptz '2024-01-01 00:00+00' + (g % 500) * interval '1 day' AS created_at,
         CASE WHEN g % 2 = 0 THEN timestamptz '2024-06-01 00:00+00' + (g % 400) * interval '1 day' END AS deleted_at,
         CASE WHEN g % 2 = 0 THEN 'support:agent' || g % 50 END AS deleted_by,
         CASE WHEN g % 4 = 0 THEN 'duplicate' WHEN g % 2 = 0 THEN 'spam' END AS delete_reason
    FROM generate_series(1, $rows) g;
EOF
  local round ms ms_ref out checks size_archive size_soft restore_ms
  local import_ms="" ref_ms="" sizes="" ref_sizes="" soft_sizes="" restores=""
  for round in $(seq "$rounds"); do
    for contender in import reference; do
      sql >/dev/null <<EOF
DROP TABLE IF EXISTS bench_import.ticket;
TRUNCATE public.deleted_record;
CREATE TABLE bench_import.ticket (LIKE bench_import.source);
INSERT INTO bench_import.ticket SELECT * FROM bench_import.source;
ALTER TABLE bench_import.ticket ADD PRIMARY KEY (id);
SELECT public.deleted_record_attach('bench_import.ticket', exclude_columns => '{deleted_at,deleted_by,delete_reason}');
EOF
      settle bench_import.ticket
      size_soft=$(sql -c "SELECT pg_total_relation_size('bench_import.ticket') / 2")
      if [ "$contender" = import ]; then
        out=$(sql <<EOF
\timing on
CALL public.deleted_record_import('bench_import.ticket', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at',
                                  actor => 'deleted_by', reason => 'delete_reason', batch_size => 10000);
EOF
)
      else
        out=$(sql <<EOF
\timing on
DELETE FROM bench_import.ticket WHERE deleted_at IS NOT NULL;
EOF
)
      fi
      ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | tail -1)
      [ -n "$ms" ] || die "import ($contender): no timing in psql output: $out"
      checks=$(sql -c "SELECT (SELECT count(*) FROM bench_import.ticket) || ' ' ||
                              (SELECT count(*) FROM bench_import.ticket WHERE deleted_at IS NOT NULL) || ' ' ||
                              count(*) || ' ' ||
                              count(*) FILTER (WHERE d.deleted_at = s.deleted_at AND d.actor = s.deleted_by
                                                 AND d.reason = s.delete_reason)
                         FROM public.deleted_record d JOIN bench_import.source s ON s.id = d.object_id::bigint
                        WHERE d.table_name = 'ticket'")
      read -r live left archived stamped <<<"$checks"
      [ "$live" -eq $((rows - soft)) ] && [ "$left" -eq 0 ] && [ "$archived" -eq "$soft" ] \
        || die "import ($contender): table $live rows ($left soft-deleted), archive $archived rows; expected $((rows - soft)), 0, $soft"
      if [ "$contender" = import ]; then
        [ "$stamped" -eq "$soft" ] || die "import: only $stamped of $soft archive rows carry their own deleted_at, actor and reason"
        import_ms+="$ms "
        size_archive=$(sql -c "SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('public.deleted_record') WHERE isleaf")
        sizes+="$size_archive "
        soft_sizes+="$size_soft "
        out=$(sql <<EOF
\timing on
SELECT outcome FROM public.deleted_record_restore(
    ARRAY(SELECT id FROM public.deleted_record WHERE table_name = 'ticket' AND object_id = '$((soft / 2 * 2))'));
EOF
)
        restore_ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | tail -1)
        [ "$(head -1 <<<"$out")" = restored ] || die "import: undelete of a migrated row: $out"
        [ "$(sql -c "SELECT count(*) FROM bench_import.ticket WHERE id = $((soft / 2 * 2)) AND deleted_at IS NULL")" -eq 1 ] \
          || die "import: the undeleted row is not back live"
        restores+="$restore_ms "
        log "import round $round: import $ms ms ($stamped rows stamped), archive $size_archive bytes, undelete $restore_ms ms"
      else
        ref_ms+="$ms "
        size_archive=$(sql -c "SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('public.deleted_record') WHERE isleaf")
        ref_sizes+="$size_archive "
        log "import round $round: one DELETE through the trigger $ms ms, archive $size_archive bytes"
      fi
    done
  done
  local med_import med_ref
  med_import=$(median "$import_ms")
  med_ref=$(median "$ref_ms")
  echo
  echo "Import: $soft soft-deleted rows of $rows (ticket: 8 columns, soft-delete columns excluded), batch_size 10000; $rounds round(s), medians"
  printf '  %-58s %12s   runs\n' "" "median"
  printf '  %-58s %9.0f ms   %s\n' "CALL deleted_record_import(...)" "$med_import" "$import_ms"
  printf '  %-58s %9.0f ms   %s\n' "one DELETE ... WHERE deleted_at IS NOT NULL (trigger)" "$med_ref" "$ref_ms"
  printf '  %-58s %9.0f rows/s\n' "import rate" "$(awk -v n="$soft" -v ms="$med_import" 'BEGIN { print n / (ms / 1000) }')"
  printf '  %-58s %12s\n' "import time / one-DELETE time" "$(ratio "$med_import" "$med_ref")"
  printf '  %-58s %9.1f MB   (%.0f bytes per row)\n' "archive size after the import (heap, indexes, TOAST)" \
    "$(awk -v b="$(median "$sizes")" 'BEGIN { print b / 1048576 }')" "$(awk -v b="$(median "$sizes")" -v n="$soft" 'BEGIN { print b / n }')"
  printf '  %-58s %9.1f MB   (%.0f bytes per row)\n' "archive size after the one DELETE instead" \
    "$(awk -v b="$(median "$ref_sizes")" 'BEGIN { print b / 1048576 }')" "$(awk -v b="$(median "$ref_sizes")" -v n="$soft" 'BEGIN { print b / n }')"
  printf '  %-58s %9.1f MB\n' "half the ticket table before (heap, indexes, TOAST)" \
    "$(awk -v b="$(median "$soft_sizes")" 'BEGIN { print b / 1048576 }')"
  printf '  %-58s %9.1f ms   %s\n' "undelete of one migrated row (deleted_record_restore)" "$(median "$restores")" "$restores"
}
