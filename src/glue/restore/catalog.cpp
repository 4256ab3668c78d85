// Catalog facts of the target tables (columns, keys, foreign keys, deferrable constraints,
// BEFORE INSERT triggers), read one way: by OID, from the relcache, syscache and catalog indexes.
#include "glue/archive_table.hpp"
#include "glue/restore/restore_state.hpp"

#include "access/stratnum.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_operator.h"

namespace deleted_record::glue::restore {

namespace {

// QualifiedOperator names an operator for SQL text by its OID, as OPERATOR(schema.name).
char* QualifiedOperator(Oid operator_oid) {
  HeapTuple tuple = SearchSysCache1(OPEROID, ObjectIdGetDatum(operator_oid));
  if (!HeapTupleIsValid(tuple)) elog(ERROR, "deleted_record: cache lookup failed for operator %u", operator_oid);
  Form_pg_operator form = reinterpret_cast<Form_pg_operator>(GETSTRUCT(tuple));
  char* schema = get_namespace_name(form->oprnamespace);
  char* name = psprintf("OPERATOR(%s.%s)", quote_identifier(schema), NameStr(form->oprname));
  ReleaseSysCache(tuple);
  return name;
}

// QualifiedCollation names a collation for SQL text by its OID, as schema."name".
char* QualifiedCollation(Oid collation) {
  HeapTuple tuple = SearchSysCache1(COLLOID, ObjectIdGetDatum(collation));
  if (!HeapTupleIsValid(tuple)) elog(ERROR, "deleted_record: cache lookup failed for collation %u", collation);
  Form_pg_collation form = reinterpret_cast<Form_pg_collation>(GETSTRUCT(tuple));
  char* name = psprintf("%s.%s", quote_identifier(get_namespace_name(form->collnamespace)),
                        quote_identifier(NameStr(form->collname)));
  ReleaseSysCache(tuple);
  return name;
}

// HasBeforeInsertRowTrigger: an enabled BEFORE INSERT row trigger of the table or of any of its
// partitions, which may change the key (pg_trigger read by its tgrelid index; no partition locked).
bool HasBeforeInsertRowTrigger(Oid relid) {
  List* relations = find_all_inheritors(relid, NoLock, nullptr);
  Relation triggers = table_open(TriggerRelationId, AccessShareLock);
  bool found = false;
  ListCell* cell;
  foreach (cell, relations) {
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(lfirst_oid(cell)));
    SysScanDesc scan = systable_beginscan(triggers, TriggerRelidNameIndexId, true, nullptr, 1, &key);
    HeapTuple tuple;
    while (!found && HeapTupleIsValid(tuple = systable_getnext(scan))) {
      Form_pg_trigger trigger = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple));
      found = TRIGGER_FOR_ROW(trigger->tgtype) && TRIGGER_FOR_BEFORE(trigger->tgtype) &&
              TRIGGER_FOR_INSERT(trigger->tgtype) && trigger->tgenabled != TRIGGER_DISABLED;
    }
    systable_endscan(scan);
    if (found) break;
  }
  table_close(triggers, AccessShareLock);
  return found;
}

// ArchivedFrom finds, by the attachment registry, the table that archived the target's pending
// rows (its identity: rows are restored into it even if it was renamed, never into another table
// that took its name). Returns its relid; InvalidOid when the registry has no window for these
// rows (archived by a trigger made by hand without an identity: the name decides, as before 1.2);
// raises an error when that table was dropped, or when the rows came from two tables.
Oid ArchivedFrom(Restore* restore, Target* target) {
  const ArchiveTable* archive = ResolveArchiveTable();
  if (!OidIsValid(get_relname_relid("deleted_record_attachment", archive->schema))) return InvalidOid;
  char* registry = ExtensionObjectName(archive, "deleted_record_attachment");
  // Per attachment covering the rows: its latest window (the table's current names and relid;
  // relid 0 once the table was dropped).
  char* query = psprintf(
      "SELECT l.relid, l.schema_name, l.table_name"
      "  FROM (SELECT DISTINCT w.attachment_id FROM pg_catalog.unnest($1) AS c(id) JOIN %1$s w"
      "          ON w.schema_name OPERATOR(pg_catalog.=) $2 AND w.table_name OPERATOR(pg_catalog.=) $3"
      "         AND w.from_id OPERATOR(pg_catalog.<=) c.id"
      "         AND (w.until_id IS NULL OR c.id OPERATOR(pg_catalog.<) w.until_id)) a,"
      "       LATERAL (SELECT x.relid, x.schema_name, x.table_name FROM %1$s x"
      "                 WHERE x.attachment_id OPERATOR(pg_catalog.=) a.attachment_id"
      "                 ORDER BY x.from_id USING OPERATOR(pg_catalog.>) LIMIT 1) l",
      registry);
  Oid types[3] = {UUIDARRAYOID, TEXTOID, TEXTOID};
  Datum values[3] = {UuidArray(target->pending, target->pending_count), CStringGetTextDatum(target->schema_name),
                     CStringGetTextDatum(target->table_name)};
  RunQueryAsOwner(restore, query, 3, types, values, SPI_OK_SELECT);
  if (SPI_processed == 0) return InvalidOid;
  char* first_row = UuidText(restore->candidates[target->pending_candidates[0]].id);
  char* archived_name = quote_qualified_identifier(target->schema_name, target->table_name);
  if (SPI_processed > 1)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("cannot restore archive row %s: the selected rows of %s were archived by %d different tables of "
                           "that name",
                           first_row, archived_name, static_cast<int>(SPI_processed)),
                    errhint("Restore the rows of each table separately. Nothing was restored.")));
  bool isnull = false;
  Oid relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
  char* schema_name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
  char* table_name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
  // The registry's relid is the table's only while the table still has the window's names
  // (a stale OID after a restore by a non-superuser, or a reused one, is not trusted).
  char* current_name = OidIsValid(relid) ? get_rel_name(relid) : nullptr;
  Oid current_schema = OidIsValid(relid) ? get_rel_namespace(relid) : InvalidOid;
  if (current_name == nullptr || strcmp(current_name, table_name) != 0 || !OidIsValid(current_schema) ||
      strcmp(get_namespace_name(current_schema), schema_name) != 0)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                    errmsg("cannot restore archive row %s: the table %s that archived it does not exist any more",
                           first_row, archived_name),
                    errdetail("Its identity (attachment) ended when it was dropped or detached; a table of that name "
                              "today is another table, and the rows are not restored into it."),
                    errhint("To put the data into the table of that name anyway, insert it yourself: INSERT INTO %s "
                            "SELECT * FROM jsonb_populate_record(NULL::%s, (SELECT data FROM deleted_record WHERE id = "
                            "'%s')). Nothing was restored.",
                            archived_name, archived_name, first_row)));
  return relid;
}

char* QualifiedConstraintName(Form_pg_constraint constraint) {
  return quote_qualified_identifier(get_namespace_name(constraint->connamespace), NameStr(constraint->conname));
}

}  // namespace

// ResolveTarget finds the table that archived the rows (by its identity, else by its names today), and reads its columns (into the
// plan the core will fill in) and indexes.
void ResolveTarget(Restore* restore, Target* target) {
  int first = target->pending_count > 0 ? target->pending_candidates[0] : 0;
  Oid relid = ArchivedFrom(restore, target);
  if (!OidIsValid(relid)) {
    Oid namespace_oid = get_namespace_oid(target->schema_name, true);
    relid = OidIsValid(namespace_oid) ? get_relname_relid(target->table_name, namespace_oid) : InvalidOid;
  }
  char relkind = OidIsValid(relid) ? get_rel_relkind(relid) : '\0';
  if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                    errmsg("cannot restore archive row %s: table %s does not exist any more",
                           UuidText(restore->candidates[first].id),
                           quote_qualified_identifier(target->schema_name, target->table_name)),
                    errhint("Rows are restored into the table with the name they were deleted from: create or rename "
                            "it back, then restore again. Nothing was restored.")));
  target->relid = relid;
  target->qualified = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
  target->rowtype = format_type_be_qualified(get_rel_type_id(relid));
  Relation rel = table_open(relid, AccessShareLock);
  TupleDesc descriptor = RelationGetDescr(rel);
  // A restore that is run again to name a culprit reads everything again.
  boundary::RestoreTablePlan* plan = target->plan;
  *plan = boundary::RestoreTablePlan{};
  plan->name = target->qualified;
  target->match_count = 0;
  target->has_unique = false;
  target->per_row = false;
  plan->columns =
      static_cast<boundary::RestoreColumnPlan*>(palloc0(sizeof(boundary::RestoreColumnPlan) * Max(descriptor->natts, 1)));
  for (int i = 0; i < descriptor->natts; ++i) {
    Form_pg_attribute attribute = TupleDescAttr(descriptor, i);
    if (attribute->attisdropped) continue;
    boundary::RestoreColumnPlan* column = &plan->columns[plan->column_count++];
    column->name = pstrdup(NameStr(attribute->attname));
    column->generated = attribute->attgenerated != '\0';
    column->identity = attribute->attidentity;
  }
  // Conflicts are possible only with a unique or exclusion index; skip mode matches inserted
  // rows back to archive rows by the primary key, else by a plain unique index. Where that
  // cannot work (no such index, a deferrable one, which ON CONFLICT cannot use, or a BEFORE
  // INSERT trigger that may change the key), skip mode goes row by row (per_row).
  List* indexes = RelationGetIndexList(rel);
  Oid primary = compat::PrimaryKeyIndex(rel);
  Oid matching = OidIsValid(primary) ? primary : InvalidOid;
  ListCell* cell;
  foreach (cell, indexes) {
    Relation index = index_open(lfirst_oid(cell), AccessShareLock);
    Form_pg_index form = index->rd_index;
    if (form->indisunique || form->indisexclusion) target->has_unique = true;
    if ((form->indisunique || form->indisexclusion) && !form->indimmediate) target->per_row = true;  // no arbiter
    if (!OidIsValid(matching) && form->indisunique && form->indimmediate && heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, nullptr) &&
        heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, nullptr))
      matching = RelationGetRelid(index);
    index_close(index, AccessShareLock);
  }
  if (OidIsValid(matching)) {
    Relation index = index_open(matching, AccessShareLock);
    int count = IndexRelationGetNumberOfKeyAttributes(index);
    target->match_columns = static_cast<char**>(palloc(sizeof(char*) * count));
    target->match_operators = static_cast<char**>(palloc(sizeof(char*) * count));
    target->match_orders = static_cast<char**>(palloc(sizeof(char*) * count));
    target->match_collations = static_cast<char**>(palloc(sizeof(char*) * count));
    for (int i = 0; i < count; ++i) {
      // The equality the unique index enforces (its operator class's), found by OID and named
      // schema-qualified: the rows it calls equal are the ones ON CONFLICT finds conflicting.
      Oid opfamily = index->rd_opfamily[i];
      Oid input_type = index->rd_opcintype[i];
      Oid equality = get_opfamily_member(opfamily, input_type, input_type, BTEqualStrategyNumber);
      if (!OidIsValid(equality))
        elog(ERROR, "deleted_record: no equality operator in the operator family %u of index %u", opfamily, matching);
      // Its less-than orders DISTINCT ON (whose equality is then this family's), and the rows
      // are compared in the index's collation, not the column's (review 7 #03).
      Oid less = get_opfamily_member(opfamily, input_type, input_type, BTLessStrategyNumber);
      if (!OidIsValid(less))
        elog(ERROR, "deleted_record: no less-than operator in the operator family %u of index %u", opfamily, matching);
      Oid collation = index->rd_indcollation[i];
      target->match_orders[target->match_count] = QualifiedOperator(less);
      target->match_collations[target->match_count] =
          OidIsValid(collation) ? psprintf(" COLLATE %s", QualifiedCollation(collation)) : pstrdup("");
      target->match_operators[target->match_count] = QualifiedOperator(equality);
      target->match_columns[target->match_count++] =
          pstrdup(NameStr(TupleDescAttr(descriptor, index->rd_index->indkey.values[i] - 1)->attname));
    }
    index_close(index, AccessShareLock);
  }
  table_close(rel, AccessShareLock);
  if (target->match_count == 0 || HasBeforeInsertRowTrigger(relid)) target->per_row = true;
}

// ForeignKeys lists the foreign keys between the planned targets (planned[] indexes targets;
// a key's from and to index planned[]), defined on the tables themselves (not inherited by a
// partition from its parent's key), oldest first, with their qualified names for SET CONSTRAINTS.
int ForeignKeys(Restore* restore, int* planned, int planned_count, boundary::RestoreKeyPlan** keys,
                char*** qualified_names) {
  int capacity = 8, count = 0;
  *keys = static_cast<boundary::RestoreKeyPlan*>(palloc0(sizeof(boundary::RestoreKeyPlan) * capacity));
  *qualified_names = static_cast<char**>(palloc(sizeof(char*) * capacity));
  Oid* oids = static_cast<Oid*>(palloc(sizeof(Oid) * capacity));
  for (int p = 0; p < planned_count; ++p) {
    Relation rel = table_open(restore->targets[planned[p]].relid, AccessShareLock);
    List* foreign_keys = RelationGetFKeyList(rel);
    ListCell* cell;
    foreach (cell, foreign_keys) {
      ForeignKeyCacheInfo* info = static_cast<ForeignKeyCacheInfo*>(lfirst(cell));
      int to = -1;
      for (int q = 0; q < planned_count; ++q)
        if (restore->targets[planned[q]].relid == info->confrelid) to = q;
      if (to < 0) continue;
      HeapTuple tuple = SearchSysCache1(CONSTROID, ObjectIdGetDatum(info->conoid));
      if (!HeapTupleIsValid(tuple)) elog(ERROR, "deleted_record: cache lookup failed for constraint %u", info->conoid);
      Form_pg_constraint constraint = reinterpret_cast<Form_pg_constraint>(GETSTRUCT(tuple));
      if (!OidIsValid(constraint->conparentid)) {
        if (count == capacity) {
          capacity *= 2;
          *keys = static_cast<boundary::RestoreKeyPlan*>(repalloc(*keys, sizeof(boundary::RestoreKeyPlan) * capacity));
          *qualified_names = static_cast<char**>(repalloc(*qualified_names, sizeof(char*) * capacity));
          oids = static_cast<Oid*>(repalloc(oids, sizeof(Oid) * capacity));
        }
        // Insertion by OID keeps the keys in the order they were created, whichever table holds them.
        int at = count++;
        for (; at > 0 && oids[at - 1] > info->conoid; --at) {
          oids[at] = oids[at - 1];
          (*keys)[at] = (*keys)[at - 1];
          (*qualified_names)[at] = (*qualified_names)[at - 1];
        }
        oids[at] = info->conoid;
        (*keys)[at] = {p, to, pstrdup(NameStr(constraint->conname)), constraint->condeferrable, false};
        (*qualified_names)[at] = QualifiedConstraintName(constraint);
      }
      ReleaseSysCache(tuple);
    }
    table_close(rel, AccessShareLock);
  }
  return count;
}

// DeferrableConstraints lists the deferrable constraints of the tables restored into, for SET
// CONSTRAINTS (schema-qualified), or null when there are none, or when the caller's transaction
// already has checks pending on one of those tables (or its partitions): checking early would
// check the caller's rows too, so then everything is checked at COMMIT, as the caller chose.
char* DeferrableConstraints(Restore* restore) {
  for (int t = 0; t < restore->target_count; ++t) {
    if (restore->targets[t].pending_count == 0) continue;
    List* relations = find_all_inheritors(restore->targets[t].relid, NoLock, nullptr);
    ListCell* cell;
    foreach (cell, relations)
      if (AfterTriggerPendingOnRel(lfirst_oid(cell))) return nullptr;
  }
  StringInfoData names;
  initStringInfo(&names);
  Relation constraints = table_open(ConstraintRelationId, AccessShareLock);
  for (int t = 0; t < restore->target_count; ++t) {
    if (restore->targets[t].pending_count == 0) continue;
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(restore->targets[t].relid));
    SysScanDesc scan = systable_beginscan(constraints, ConstraintRelidTypidNameIndexId, true, nullptr, 1, &key);
    HeapTuple tuple;
    while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
      Form_pg_constraint constraint = reinterpret_cast<Form_pg_constraint>(GETSTRUCT(tuple));
      if (!constraint->condeferrable) continue;
      // SET CONSTRAINTS takes a name once: tables of one schema may have constraints of one name.
      char* name = QualifiedConstraintName(constraint);
      char* listed = psprintf(", %s, ", names.data);
      char* probe = psprintf(", %s, ", name);
      if (strstr(listed, probe) == nullptr) appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "", name);
    }
    systable_endscan(scan);
  }
  table_close(constraints, AccessShareLock);
  return names.len > 0 ? names.data : nullptr;
}

}  // namespace deleted_record::glue::restore
