// The SQL text a restore runs: per step the INSERT ... SELECT ... jsonb_populate_record(...)
// over the archive rows, the probe that names a culprit column, and SET CONSTRAINTS.
#include "glue/archive_table.hpp"
#include "glue/restore/restore_state.hpp"

namespace deleted_record::glue::restore {

// InsertStatement is the set-based INSERT of a step, over the columns the plan inserts; skip
// mode matches inserted rows back to archive rows by the target's identifying columns and
// returns the archive ids restored. $1 is the archive ids.
char* InsertStatement(const Restore* restore, const Target* target, bool skip) {
  const boundary::RestoreTablePlan* plan = target->plan;
  StringInfoData columns, selected;
  initStringInfo(&columns);
  initStringInfo(&selected);
  for (int c = 0; c < plan->column_count; ++c) {
    if (!plan->columns[c].inserted) continue;
    const char* name = quote_identifier(plan->columns[c].name);
    appendStringInfo(&columns, "%s%s", columns.len > 0 ? ", " : "", name);
    appendStringInfo(&selected, "%sr.%s", selected.len > 0 ? ", " : "", name);
  }
  const char* overriding = plan->overriding_system_value ? " OVERRIDING SYSTEM VALUE" : "";
  ArchiveIds rows = ArchiveIdsOf("a", "$1", target->pending_count);
  if (!skip)
    return psprintf("INSERT INTO %s (%s)%s SELECT %s FROM %s a%s,"
                    " pg_catalog.jsonb_populate_record(NULL::%s, %s) r WHERE %s",
                    target->qualified, columns.data, overriding, selected.data, restore->archive_name, rows.from,
                    target->rowtype, restore->data, rows.where);
  // One archive row per key value: rows with the same key in one call would conflict with each
  // other (the earliest archive row is kept). Rows whose key has a NULL never conflict.
  // Inserted rows are matched back to the chosen ones by their key: where no key column is NULL
  // by the unique index's own equality (a hash or merge join: a nested loop over both sides
  // would cost the square of the rows), the rest (rare) among themselves, NULL matching NULL.
  StringInfoData any_null, c_null, i_null, keys, returning, match, equal;
  initStringInfo(&any_null);
  initStringInfo(&c_null);
  initStringInfo(&i_null);
  initStringInfo(&keys);
  initStringInfo(&returning);
  initStringInfo(&match);
  initStringInfo(&equal);
  for (int i = 0; i < target->match_count; ++i) {
    const char* name = quote_identifier(target->match_columns[i]);
    appendStringInfo(&any_null, "%ss.%s IS NULL", i > 0 ? " OR " : "", name);
    appendStringInfo(&c_null, "%sc.%s IS NULL", i > 0 ? " OR " : "", name);
    appendStringInfo(&i_null, "%si.%s IS NULL", i > 0 ? " OR " : "", name);
    appendStringInfo(&keys, "%ss.%s", i > 0 ? ", " : "", name);
    appendStringInfo(&returning, "%s%s", i > 0 ? ", " : "", name);
    appendStringInfo(&match, "%s(c.%s IS NULL AND i.%s IS NULL OR c.%s %s i.%s)", i > 0 ? " AND " : "", name, name, name,
                     target->match_operators[i], name);
    appendStringInfo(&equal, "%sc.%s %s i.%s", i > 0 ? " AND " : "", name, target->match_operators[i], name);
  }
  return psprintf(
      "WITH src AS MATERIALIZED (SELECT a.id AS \"deleted_record archive id\", r.*"
      "                            FROM %s a%s, pg_catalog.jsonb_populate_record(NULL::%s, %s) r WHERE %s),"
      " chosen AS MATERIALIZED (SELECT s.* FROM src s WHERE %s"
      "                         UNION ALL"
      "                         (SELECT DISTINCT ON (%s) s.* FROM src s WHERE NOT (%s)"
      "                           ORDER BY %s, s.\"deleted_record archive id\")),"
      " ins AS (INSERT INTO %s (%s)%s SELECT %s FROM chosen r ON CONFLICT DO NOTHING RETURNING %s)"
      " SELECT c.\"deleted_record archive id\" FROM chosen c JOIN ins i ON %s"
      " UNION ALL"
      " SELECT c.\"deleted_record archive id\" FROM (SELECT * FROM chosen c WHERE %s) c"
      "   JOIN (SELECT * FROM ins i WHERE %s) i ON %s",
      restore->archive_name, rows.from, target->rowtype, restore->data, rows.where,
      any_null.data, keys.data, any_null.data, keys.data, target->qualified, columns.data, overriding, selected.data,
      returning.data, equal.data, c_null.data, i_null.data, match.data);
}

// ColumnProbeStatement converts one archived column of the archive rows $1 to its type today,
// alone: it fails when that column's value is the one that no longer converts.
char* ColumnProbeStatement(const Restore* restore, const Target* target, const char* column) {
  return psprintf("SELECT r.%s FROM %s a, pg_catalog.jsonb_populate_record(NULL::%s,"
                  " pg_catalog.jsonb_build_object(%s, a.data OPERATOR(pg_catalog.->) %s)) r WHERE a.id OPERATOR(pg_catalog.=) ANY ($1)",
                  quote_identifier(column), restore->archive_name, target->rowtype, quote_literal_cstr(column),
                  quote_literal_cstr(column));
}

// SetConstraintsCommand sets the mode of the foreign keys the plan defers (those of a cycle
// between restored tables), or returns null when it defers none.
char* SetConstraintsCommand(char** names, const boundary::RestoreKeyPlan* keys, int count, const char* mode) {
  StringInfoData command;
  initStringInfo(&command);
  for (int k = 0; k < count; ++k)
    if (keys[k].deferred) appendStringInfo(&command, "%s%s", command.len > 0 ? ", " : "SET CONSTRAINTS ", names[k]);
  if (command.len == 0) return nullptr;
  appendStringInfo(&command, " %s", mode);
  return command.data;
}

}  // namespace deleted_record::glue::restore
