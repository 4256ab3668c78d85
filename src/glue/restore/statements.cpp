// The SQL text a restore runs: per step the INSERT ... SELECT ... jsonb_populate_record(...)
// over the archive rows, the probe that names a culprit column, and SET CONSTRAINTS.
#include "glue/archive_table.hpp"
#include "glue/restore/restore_state.hpp"

namespace deleted_record::glue::restore {

// InsertStatement is the set-based INSERT of a step, over the columns the plan inserts; skip
// mode matches inserted rows back to archive rows by the target's identifying columns and
// returns the archive ids restored (false) and those whose key has a NULL, not inserted (true).
// $1 is the archive ids.
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
  // other (the earliest archive row is kept). Inserted rows are matched back to the chosen ones
  // by their key, by the unique index's own equality (a hash or merge join: a nested loop over
  // both sides would cost the square of the rows). Rows whose key has a NULL are not inserted
  // here: NULL matches nothing (and another of them, or a row kept out by another unique index,
  // would be taken for it; a NULLS NOT DISTINCT index makes them conflict too). They are
  // returned with true in the second column, for RunStep to insert one by one.
  // Keys are compared as the index compares them: in its collation, DISTINCT ON by the
  // equality of its operator class (given by the ORDER BY ... USING its less-than).
  StringInfoData any_null, keys, order, returning, equal;
  initStringInfo(&any_null);
  initStringInfo(&keys);
  initStringInfo(&order);
  initStringInfo(&returning);
  initStringInfo(&equal);
  for (int i = 0; i < target->match_count; ++i) {
    const char* name = quote_identifier(target->match_columns[i]);
    const char* collate = target->match_collations[i];
    appendStringInfo(&any_null, "%ss.%s IS NULL", i > 0 ? " OR " : "", name);
    appendStringInfo(&keys, "%ss.%s%s", i > 0 ? ", " : "", name, collate);
    appendStringInfo(&order, "%ss.%s%s USING %s", i > 0 ? ", " : "", name, collate, target->match_orders[i]);
    appendStringInfo(&returning, "%s%s", i > 0 ? ", " : "", name);
    appendStringInfo(&equal, "%sc.%s%s %s i.%s%s", i > 0 ? " AND " : "", name, collate, target->match_operators[i], name,
                     collate);
  }
  return psprintf(
      "WITH src AS MATERIALIZED (SELECT a.id AS \"deleted_record archive id\", r.*"
      "                            FROM %s a%s, pg_catalog.jsonb_populate_record(NULL::%s, %s) r WHERE %s),"
      " chosen AS MATERIALIZED (SELECT DISTINCT ON (%s) s.* FROM src s WHERE NOT (%s)"
      "                           ORDER BY %s, s.\"deleted_record archive id\"),"
      " ins AS (INSERT INTO %s (%s)%s SELECT %s FROM chosen r ON CONFLICT DO NOTHING RETURNING %s)"
      " SELECT c.\"deleted_record archive id\", false FROM chosen c JOIN ins i ON %s"
      " UNION ALL"
      " SELECT s.\"deleted_record archive id\", true FROM src s WHERE %s",
      restore->archive_name, rows.from, target->rowtype, restore->data, rows.where,
      keys.data, any_null.data, order.data, target->qualified, columns.data, overriding, selected.data,
      returning.data, equal.data, any_null.data);
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
