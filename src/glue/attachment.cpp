// Attachment options: the core decides (column policy rules, the argument's format); this file
// gathers the table's columns and key by OID and rewrites triggers when columns change.
#include "glue/attachment.hpp"

#include "glue/citus.hpp"

namespace deleted_record::glue {

namespace {

// Strings collects C strings for a boundary::NameList.
struct Strings {
  int count;
  const char** names;
};

Strings NewStrings(int capacity) { return {0, static_cast<const char**>(palloc(sizeof(char*) * Max(capacity, 1)))}; }

boundary::NameList AsNameList(const Strings& strings) { return {strings.count, strings.names}; }

// ColumnNames lists rel's live columns.
Strings ColumnNames(Relation rel) {
  TupleDesc descriptor = RelationGetDescr(rel);
  Strings names = NewStrings(descriptor->natts);
  for (int i = 0; i < descriptor->natts; ++i) {
    Form_pg_attribute attribute = TupleDescAttr(descriptor, i);
    if (!attribute->attisdropped) names.names[names.count++] = pstrdup(NameStr(attribute->attname));
  }
  return names;
}

// KeyColumnNames lists the columns of rel's primary key, else of its replica identity index.
Strings KeyColumnNames(Relation rel) {
  Oid index_oid = compat::PrimaryKeyIndex(rel);
  if (!OidIsValid(index_oid)) index_oid = RelationGetReplicaIndex(rel);
  if (!OidIsValid(index_oid)) return NewStrings(0);
  Relation index = index_open(index_oid, AccessShareLock);
  int count = IndexRelationGetNumberOfKeyAttributes(index);
  Strings names = NewStrings(count);
  for (int i = 0; i < count; ++i) {
    AttrNumber attnum = index->rd_index->indkey.values[i];
    if (attnum > 0) names.names[names.count++] = pstrdup(NameStr(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attname));
  }
  index_close(index, AccessShareLock);
  return names;
}

// ArrayNames reads a text[] (NULL elements are an error).
Strings ArrayNames(ArrayType* array, const char* parameter) {
  if (array == nullptr) return NewStrings(0);
  Datum* values;
  bool* nulls;
  int count;
  deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &values, &nulls, &count);
  Strings names = NewStrings(count);
  for (int i = 0; i < count; ++i) {
    if (nulls[i])
      ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                      errmsg("deleted_record_attach: %s must not contain NULL", parameter)));
    names.names[names.count++] = TextDatumGetCString(values[i]);
  }
  return names;
}

char* TakeText(char* text) {
  if (text == nullptr) return nullptr;
  char* copy = pstrdup(text);
  boundary::FreeText(text);
  return copy;
}

// RecreateTrigger replaces the archive trigger's argument, keeping its name, its WHEN condition
// and whether and when it is enabled.
void RecreateTrigger(Oid trigger_oid, const char* table, const char* name, char enabled, const char* argument) {
  char* definition = TextDatumGetCString(DirectFunctionCall1(pg_get_triggerdef, ObjectIdGetDatum(trigger_oid)));
  char* call = strstr(definition, "deleted_record_insert(");
  if (call == nullptr) elog(ERROR, "deleted_record: unexpected definition of trigger \"%s\": %s", name, definition);
  call[strlen("deleted_record_insert(")] = '\0';
  StringInfoData commands;
  initStringInfo(&commands);
  appendStringInfo(&commands, "DROP TRIGGER %s ON %s; %s%s)", quote_identifier(name), table, definition,
                   quote_literal_cstr(argument));
  if (enabled != TRIGGER_FIRES_ON_ORIGIN)
    appendStringInfo(&commands, "; ALTER TABLE %s %s TRIGGER %s", table,
                     enabled == TRIGGER_DISABLED ? "DISABLE" : enabled == TRIGGER_FIRES_ALWAYS ? "ENABLE ALWAYS"
                                                                                              : "ENABLE REPLICA",
                     quote_identifier(name));
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "deleted_record: SPI_connect failed");
  if (SPI_execute(commands.data, false, 0) < 0) elog(ERROR, "deleted_record: could not recreate trigger \"%s\"", name);
  SPI_finish();
}

}  // namespace

char* BuildAttachmentArgument(Oid relid, const Interval* retention, ArrayType* exclude, ArrayType* mask) {
  CheckCitusAttachPrerequisites();
  const char* retention_text = nullptr;
  if (retention != nullptr) {
    Interval zero = {};
    if (DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(retention), IntervalPGetDatum(&zero))) <= 0)
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("deleted_record_attach: retention must be a positive interval, not %s",
                             DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(retention)))),
                      errhint("NULL keeps the table's archive rows forever.")));
    retention_text = DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(retention)));
  }
  Relation rel = table_open(relid, AccessShareLock);
  Strings columns = ColumnNames(rel);
  Strings keys = KeyColumnNames(rel);
  char* name = RelationGetRelationName(rel);
  table_close(rel, AccessShareLock);
  Strings excluded = ArrayNames(exclude, "exclude_columns");
  Strings masked = ArrayNames(mask, "mask_columns");
  char* argument = nullptr;
  boundary::Verdict verdict = boundary::BuildAttachmentArgument(retention_text, AsNameList(excluded), AsNameList(masked),
                                                                AsNameList(columns), AsNameList(keys), &argument);
  if (!verdict.ok)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("deleted_record_attach: table \"%s\": %s", name, verdict.message)));
  return TakeText(argument);
}

const char* ArchiveTriggerArgument(Relation rel, const ArchiveTable* archive) {
  const TriggerDesc* triggers = rel->trigdesc;
  if (triggers == nullptr) return nullptr;
  const Trigger* chosen = nullptr;
  for (int i = 0; i < triggers->numtriggers; ++i) {
    const Trigger* trigger = &triggers->triggers[i];
    if (trigger->tgfoid != archive->insert_function) continue;
    if (chosen == nullptr || (chosen->tgqual != nullptr && trigger->tgqual == nullptr)) chosen = trigger;
  }
  return chosen != nullptr && chosen->tgnargs == 1 ? chosen->tgargs[0] : nullptr;
}

void FollowColumnChanges(EventTriggerData* event) {
  Node* tree = event->parsetree;
  RangeVar* relation = nullptr;
  const char* old_name = nullptr;
  const char* new_name = nullptr;
  if (IsA(tree, RenameStmt) && castNode(RenameStmt, tree)->renameType == OBJECT_COLUMN) {
    RenameStmt* rename = castNode(RenameStmt, tree);
    relation = rename->relation;
    old_name = rename->subname;
    new_name = rename->newname;
  } else if (IsA(tree, AlterTableStmt)) {
    relation = castNode(AlterTableStmt, tree)->relation;
  }
  if (relation == nullptr) return;
  Oid relid = RangeVarGetRelid(relation, NoLock, true);
  // Nothing to follow inside extension scripts, or where the extension is not installed.
  if (creating_extension || !OidIsValid(relid) || get_extension_oid("deleted_record", true) == InvalidOid) return;
  const ArchiveTable* archive = ResolveArchiveTable();
  Relation rel = table_open(relid, NoLock);  // the command holds its lock
  if (rel->rd_rel->relkind != RELKIND_RELATION && rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE) {
    table_close(rel, NoLock);
    return;
  }
  Strings columns = ColumnNames(rel);
  char* table = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel));
  // Collect first: recreating triggers changes the relation's trigger list.
  struct Change {
    Oid trigger;
    char* name;
    char enabled;
    char* argument;
  };
  int change_count = 0;
  Change* changes = nullptr;
  const TriggerDesc* triggers = rel->trigdesc;
  for (int i = 0; triggers != nullptr && i < triggers->numtriggers; ++i) {
    const Trigger* trigger = &triggers->triggers[i];
    if (trigger->tgfoid != archive->insert_function || trigger->tgnargs != 1 || trigger->tgisclone) continue;
    char* updated = nullptr;
    boundary::Verdict verdict =
        boundary::UpdateAttachmentArgument(trigger->tgargs[0], old_name, new_name, AsNameList(columns), &updated);
    if (!verdict.ok)
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("trigger \"%s\" on table %s: %s", trigger->tgname, table, verdict.message)));
    if (updated == nullptr) continue;
    if (changes == nullptr) changes = static_cast<Change*>(palloc(sizeof(Change) * triggers->numtriggers));
    changes[change_count++] = {trigger->tgoid, pstrdup(trigger->tgname), trigger->tgenabled, TakeText(updated)};
  }
  table_close(rel, NoLock);
  for (int i = 0; i < change_count; ++i)
    RecreateTrigger(changes[i].trigger, table, changes[i].name, changes[i].enabled, changes[i].argument);
}

}  // namespace deleted_record::glue
