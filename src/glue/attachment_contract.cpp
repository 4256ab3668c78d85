// The attachment contract: the core decides (column policy rules, the argument's format, how a
// table's triggers merge into its contract); this file reads the triggers, gathers the table's
// columns and key by OID, checks new archive triggers and rewrites them when columns change.
#include "glue/attachment_contract.hpp"

#include "glue/citus.hpp"
#include "glue/spi_connection.hpp"
#include "glue/table_key.hpp"

namespace deleted_record::glue {

namespace {

// FiresInThisSession is true when the trigger fires under the current session_replication_role.
bool FiresInThisSession(const Trigger* trigger) {
  if (trigger->tgenabled == TRIGGER_DISABLED) return false;
  if (trigger->tgenabled == TRIGGER_FIRES_ALWAYS) return true;
  bool replica = SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA;
  return replica ? trigger->tgenabled == TRIGGER_FIRES_ON_REPLICA : trigger->tgenabled == TRIGGER_FIRES_ON_ORIGIN;
}

// Set while FollowColumnChanges recreates a trigger with the options it already had.
bool recreating_trigger = false;

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

// KeyColumnNames lists the columns of rel's key (glue/table_key.hpp).
Strings KeyColumnNames(Relation rel) {
  Oid index_oid = TableKeyIndex(rel);
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

// WithBuffer calls fill (a door function taking an OutputBuffer) with a palloc'd buffer, and
// once more with one of the size the core asked for when the first was too small (the door's
// functions are pure, so the second call gives the same answer). Everything the core writes
// lives in CurrentMemoryContext and goes with it: nothing to free, nothing to copy.
// first_guess: what the output most likely takes (a cache entry keeps it for the table's life).
template <typename Fill>
boundary::Verdict WithBuffer(boundary::OutputBuffer* buffer, Fill fill, std::size_t first_guess = 1024) {
  *buffer = {palloc(first_guess), first_guess, 0};
  boundary::Verdict verdict = fill(buffer);
  if (verdict.ok && buffer->required > buffer->capacity) {
    pfree(buffer->data);
    *buffer = {palloc(buffer->required), buffer->required, 0};
    verdict = fill(buffer);
  }
  if (verdict.ok && buffer->required > buffer->capacity)
    elog(ERROR, "deleted_record: the core asked for a larger buffer twice");
  return verdict;
}

// ArgumentText is the text a door function wrote into buffer, or null when it is empty.
char* ArgumentText(const boundary::OutputBuffer& buffer) {
  char* text = static_cast<char*>(buffer.data);
  return text[0] != '\0' ? text : nullptr;
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
  ConnectSpi();
  recreating_trigger = true;
  PG_TRY();
  {
    if (SPI_execute(commands.data, false, 0) < 0) elog(ERROR, "deleted_record: could not recreate trigger \"%s\"", name);
  }
  PG_FINALLY();
  {
    recreating_trigger = false;
  }
  PG_END_TRY();
  FinishSpi();
}

// FirstArgument is the first argument of a trigger's pg_trigger row, or null.
char* FirstArgument(HeapTuple tuple, TupleDesc descriptor) {
  Form_pg_trigger trigger = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple));
  if (trigger->tgnargs < 1) return nullptr;
  bool isnull = false;
  Datum value = heap_getattr(tuple, Anum_pg_trigger_tgargs, descriptor, &isnull);
  if (isnull) return nullptr;
  bytea* arguments = DatumGetByteaPP(value);
  int length = VARSIZE_ANY_EXHDR(arguments);
  const char* bytes = VARDATA_ANY(arguments);
  int end = 0;
  while (end < length && bytes[end] != '\0') ++end;
  return pnstrdup(bytes, end);
}

// CanArchive is true for a trigger of the table's own (not a partition's clone of its
// parent's) that calls deleted_record_insert AFTER DELETE FOR EACH ROW (any other use fails
// when fired): what makes a table attached on its own.
bool CanArchive(const Form_pg_trigger trigger, const ArchiveTable* archive) {
  return trigger->tgfoid == archive->insert_function && !OidIsValid(trigger->tgparentid) &&
         TRIGGER_FOR_ROW(trigger->tgtype) && TRIGGER_FOR_AFTER(trigger->tgtype) && TRIGGER_FOR_DELETE(trigger->tgtype);
}

// MergeArguments merges arguments (null for none; in firing order) into *options (palloc'd);
// *bad is the index of an argument that does not parse, else -1.
boundary::Verdict MergeArguments(const char* const* arguments, int count, boundary::OptionLists* options, int* bad) {
  boundary::OutputBuffer buffer;
  return WithBuffer(&buffer, [&](boundary::OutputBuffer* into) {
    return boundary::MergeAttachmentArguments(arguments, count, into, options, bad);
  });
}

// ContractOf merges arguments (null for none; in firing order) into *options (palloc'd); the
// error names the table.
void ContractOf(const char* const* arguments, int count, const char* table, boundary::OptionLists* options) {
  int bad = -1;
  boundary::Verdict verdict = MergeArguments(arguments, count, options, &bad);
  if (!verdict.ok)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("an archive trigger of table \"%s\" has an invalid argument: %s", table, verdict.message),
                    errhint("Attach the table again: SELECT deleted_record_attach(...).")));
}

Datum NamesArray(char** names, int count) {
  Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * Max(count, 1)));
  for (int i = 0; i < count; ++i) values[i] = CStringGetTextDatum(names[i]);
  return PointerGetDatum(construct_array(values, count, TEXTOID, -1, false, TYPALIGN_INT));
}

// RetentionInterval reads retention text; text that is not an interval (a trigger made by
// hand before 1.2, which did not check it) counts as no retention: rows are kept.
bool RetentionInterval(const char* text, Datum* interval) {
  MemoryContext context = CurrentMemoryContext;
  volatile bool ok = true;
  PG_TRY();
  {
    *interval = DirectFunctionCall3(interval_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(context);
    FlushErrorState();
    ok = false;
  }
  PG_END_TRY();
  return ok;
}

}  // namespace

char* BuildAttachmentArgument(Oid relid, const char* attachment, const Interval* retention, ArrayType* exclude,
                              ArrayType* mask) {
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
  boundary::OutputBuffer argument;
  boundary::Verdict verdict = WithBuffer(&argument, [&](boundary::OutputBuffer* into) {
    return boundary::BuildAttachmentArgument(attachment, retention_text, AsNameList(excluded), AsNameList(masked),
                                             AsNameList(columns), AsNameList(keys), into);
  });
  if (!verdict.ok)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("deleted_record_attach: table \"%s\": %s", name, verdict.message)));
  return ArgumentText(argument);
}

const char* ArchiveTriggerArgument(Relation rel, const ArchiveTable* archive) {
  const TriggerDesc* triggers = rel->trigdesc;
  if (triggers == nullptr) return nullptr;
  const char** arguments = static_cast<const char**>(palloc0(sizeof(char*) * triggers->numtriggers));
  int count = 0;
  for (int i = 0; i < triggers->numtriggers; ++i) {
    const Trigger* trigger = &triggers->triggers[i];
    if (trigger->tgfoid != archive->insert_function) continue;
    arguments[count++] = trigger->tgnargs >= 1 ? trigger->tgargs[0] : nullptr;
  }
  if (count == 0) return nullptr;
  if (count == 1) return arguments[0];
  boundary::OptionLists options;
  ContractOf(arguments, count, RelationGetRelationName(rel), &options);
  boundary::NameList no_columns = {0, nullptr};
  // Rebuild the argument from the merged lists (checked when each trigger was made).
  boundary::NameList excluded = {options.exclude_count, options.exclude};
  boundary::NameList masked = {options.mask_count, options.mask};
  Strings columns = NewStrings(options.exclude_count + options.mask_count);
  for (int i = 0; i < options.exclude_count; ++i) columns.names[columns.count++] = options.exclude[i];
  for (int i = 0; i < options.mask_count; ++i) columns.names[columns.count++] = options.mask[i];
  boundary::OutputBuffer merged;
  boundary::Verdict verdict = WithBuffer(&merged, [&](boundary::OutputBuffer* into) {
    return boundary::BuildAttachmentArgument(options.attachment, options.retention, excluded, masked, AsNameList(columns),
                                             no_columns, into);
  });
  if (!verdict.ok)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("the archive triggers of table \"%s\" disagree: %s", RelationGetRelationName(rel),
                           verdict.message)));
  return ArgumentText(merged);
}

boundary::Verdict ReadAttachmentArgument(const char* argument, boundary::OptionLists* options) {
  boundary::OutputBuffer buffer;
  // The lists take at most the argument's text and a pointer per name (each name at least "").
  std::size_t length = argument != nullptr ? strlen(argument) : 0;
  return WithBuffer(
      &buffer, [&](boundary::OutputBuffer* into) { return boundary::ParseAttachmentArgument(argument, into, options); },
      length + length / 3 * sizeof(char*) + 64);
}

Oid ExtensionFunction(const char* name, int nargs, Oid* types) {
  const ArchiveTable* archive = ResolveArchiveTable();
  List* qualified = list_make2(makeString(get_namespace_name(archive->schema)), makeString(pstrdup(name)));
  return LookupFuncName(qualified, nargs, types, true);
}

TriggerScan BeginTriggerScan(Oid relid) {
  TriggerScan walk;
  walk.catalog = table_open(TriggerRelationId, AccessShareLock);
  ScanKeyData key;
  ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
  walk.scan = systable_beginscan(walk.catalog, TriggerRelidNameIndexId, true, nullptr, 1, &key);
  return walk;
}

HeapTuple NextTrigger(TriggerScan* walk) {
  HeapTuple tuple = systable_getnext(walk->scan);
  return HeapTupleIsValid(tuple) ? tuple : nullptr;
}

void EndTriggerScan(TriggerScan* walk) {
  systable_endscan(walk->scan);
  table_close(walk->catalog, AccessShareLock);
}

bool IsAttachedOnItsOwn(Oid relid) {
  if (OidIsValid(CitusShardOf(relid)) || get_rel_name(relid) == nullptr) return false;
  const ArchiveTable* archive = ResolveArchiveTable();
  TriggerScan walk = BeginTriggerScan(relid);
  bool attached = false;
  HeapTuple tuple;
  while (!attached && (tuple = NextTrigger(&walk)) != nullptr)
    attached = CanArchive(reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple)), archive);
  EndTriggerScan(&walk);
  return attached;
}

bool IsArchivingTrigger(const TriggerData* data) {
  const Trigger* self = data->tg_trigger;
  const TriggerDesc* triggers = data->tg_relation->trigdesc;
  if (triggers == nullptr || triggers->numtriggers < 2) return true;
  for (int i = 0; i < triggers->numtriggers; ++i) {
    const Trigger* trigger = &triggers->triggers[i];
    if (trigger->tgfoid != self->tgfoid || trigger->tgqual != nullptr || !FiresInThisSession(trigger) ||
        !TRIGGER_FOR_ROW(trigger->tgtype) || !TRIGGER_FOR_AFTER(trigger->tgtype) ||
        !TRIGGER_FOR_DELETE(trigger->tgtype))
      continue;
    return trigger->tgoid == self->tgoid;
  }
  return true;
}

const char* TruncateGuardPolicy(Oid relid) {
  Oid guard_function = ExtensionFunction("deleted_record_truncate_guard", 0, nullptr);
  if (!OidIsValid(guard_function)) return nullptr;
  TriggerScan walk = BeginTriggerScan(relid);
  const char* policy = nullptr;
  HeapTuple tuple;
  while (policy == nullptr && (tuple = NextTrigger(&walk)) != nullptr) {
    Form_pg_trigger trigger = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple));
    if (trigger->tgfoid != guard_function || !TRIGGER_FOR_TRUNCATE(trigger->tgtype)) continue;
    char* argument = FirstArgument(tuple, RelationGetDescr(walk.catalog));
    policy = argument != nullptr ? argument : "archive";
  }
  EndTriggerScan(&walk);
  return policy;
}

void ListAttachments(FunctionCallInfo fcinfo) {
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* result = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  const ArchiveTable* archive = ResolveArchiveTable();
  struct Found {
    Oid relid;
    NameData name;
    bool conditional;
    bool disabled;
    char* argument;
  };
  int count = 0, capacity = 64;
  Found* found = static_cast<Found*>(palloc(sizeof(Found) * capacity));
  // pg_trigger in (tgrelid, tgname) order: each table's triggers together, in firing order.
  Relation triggers = table_open(TriggerRelationId, AccessShareLock);
  SysScanDesc scan = systable_beginscan(triggers, TriggerRelidNameIndexId, true, nullptr, 0, nullptr);
  HeapTuple tuple;
  while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
    Form_pg_trigger trigger = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple));
    if (!CanArchive(trigger, archive)) continue;
    if (count == capacity) {
      capacity *= 2;
      found = static_cast<Found*>(repalloc(found, sizeof(Found) * capacity));
    }
    found[count].relid = trigger->tgrelid;
    found[count].name = trigger->tgname;
    found[count].conditional = !heap_attisnull(tuple, Anum_pg_trigger_tgqual, RelationGetDescr(triggers));
    found[count].disabled = trigger->tgenabled == TRIGGER_DISABLED;
    found[count].argument = FirstArgument(tuple, RelationGetDescr(triggers));
    ++count;
  }
  systable_endscan(scan);
  table_close(triggers, AccessShareLock);

  for (int first = 0; first < count;) {
    int end = first;
    while (end < count && found[end].relid == found[first].relid) ++end;
    Oid relid = found[first].relid;
    if (!OidIsValid(CitusShardOf(relid)) && get_rel_name(relid) != nullptr) {
      const char** arguments = static_cast<const char**>(palloc(sizeof(char*) * (end - first)));
      int archiving = -1;
      for (int i = first; i < end; ++i) {
        arguments[i - first] = found[i].argument;
        if (archiving < 0 && !found[i].conditional && !found[i].disabled) archiving = i;
      }
      if (archiving < 0) archiving = first;
      // An argument that does not parse (a trigger made by hand before 1.2 checked them) must
      // not make this list, and with it every DDL that consults it, fail: it is left out here
      // with a warning (deletes from the table fail until it is fixed, as they always did).
      for (int i = 0; i < end - first; ++i) {
        if (arguments[i] == nullptr) continue;
        boundary::OptionLists one;
        int bad = -1;
        boundary::Verdict verdict = MergeArguments(&arguments[i], 1, &one, &bad);
        if (!verdict.ok) {
          ereport(WARNING, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("archive trigger \"%s\" of table \"%s\" has an invalid argument: %s",
                                   NameStr(found[first + i].name), get_rel_name(relid), verdict.message),
                            errhint("Attach the table again: SELECT deleted_record_attach(...).")));
          arguments[i] = nullptr;
        }
      }
      boundary::OptionLists options;
      ContractOf(arguments, end - first, get_rel_name(relid), &options);
      Datum values[7];
      bool nulls[7] = {};
      values[0] = ObjectIdGetDatum(relid);
      nulls[1] = options.attachment == nullptr;
      if (!nulls[1]) values[1] = DirectFunctionCall1(uuid_in, CStringGetDatum(options.attachment));
      values[2] = NameGetDatum(&found[archiving].name);
      const char* policy = TruncateGuardPolicy(relid);
      values[3] = CStringGetTextDatum(policy != nullptr ? policy : "ignore");
      nulls[4] = options.retention == nullptr || !RetentionInterval(options.retention, &values[4]);
      nulls[5] = options.exclude_count == 0;
      if (!nulls[5]) values[5] = NamesArray(options.exclude, options.exclude_count);
      nulls[6] = options.mask_count == 0;
      if (!nulls[6]) values[6] = NamesArray(options.mask, options.mask_count);
      tuplestore_putvalues(result->setResult, result->setDesc, values, nulls);
    }
    first = end;
  }
}

namespace {

// CheckCreatedTrigger checks one trigger a CREATE TRIGGER made (default_schema: the schema a
// CREATE SCHEMA element's unqualified table is in).
void CheckCreatedTrigger(CreateTrigStmt* statement, const char* default_schema) {
  Oid relid = InvalidOid;
  if (statement->relation->schemaname == nullptr && default_schema != nullptr) {
    Oid schema = get_namespace_oid(default_schema, true);
    if (OidIsValid(schema)) relid = get_relname_relid(statement->relation->relname, schema);
  } else {
    relid = RangeVarGetRelid(statement->relation, NoLock, true);
  }
  if (!OidIsValid(relid)) return;
  const ArchiveTable* archive = ResolveArchiveTable();
  Relation rel = table_open(relid, NoLock);  // CREATE TRIGGER holds its lock
  const Trigger* created = nullptr;
  for (int i = 0; rel->trigdesc != nullptr && i < rel->trigdesc->numtriggers; ++i)
    if (strcmp(rel->trigdesc->triggers[i].tgname, statement->trigname) == 0) created = &rel->trigdesc->triggers[i];
  if (created == nullptr || created->tgfoid != archive->insert_function || created->tgnargs < 1) {
    table_close(rel, NoLock);
    return;
  }
  char* table = pstrdup(RelationGetRelationName(rel));
  const char* argument = pstrdup(created->tgargs[0]);
  table_close(rel, NoLock);
  // Citus copies the table's triggers onto its shards itself, also before its metadata knows
  // the shard (a split): CitusShardOf knows shards from Citus's metadata and copies by their
  // trigger's arguments (the Citus table's attachment id).
  if (OidIsValid(CitusShardOf(relid))) return;
  boundary::OptionLists options;
  ContractOf(&argument, 1, table, &options);
  if (options.retention != nullptr) {
    Datum interval;
    if (!RetentionInterval(options.retention, &interval))
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("trigger \"%s\" on table \"%s\": retention \"%s\" is not an interval", statement->trigname,
                             table, options.retention)));
  }
  if (options.mask_count > 0 && !recreating_trigger) {
    Oid text_type = TEXTOID;
    Oid mask_function = ExtensionFunction("deleted_record_mask", 1, &text_type);
    if (!OidIsValid(mask_function) ||
        !DatumGetBool(DirectFunctionCall2(has_function_privilege_id, ObjectIdGetDatum(mask_function),
                                          CStringGetTextDatum("EXECUTE"))))
      ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                      errmsg("permission denied to mask columns of table \"%s\"", table),
                      errdetail("Masking columns computes deleted_record_mask() of the values deleted from the table."),
                      errhint("A role granted EXECUTE on FUNCTION deleted_record_mask(text) can attach it with "
                              "mask_columns.")));
  }
  if (options.attachment == nullptr) return;
  // The attachment id: fresh (never registered), or registered last to this very table.
  Oid registry = get_relname_relid("deleted_record_attachment", archive->schema);
  if (!OidIsValid(registry)) return;
  Relation windows = table_open(registry, AccessShareLock);
  AttrNumber id_column = get_attnum(registry, "attachment_id");
  AttrNumber relid_column = get_attnum(registry, "relid");
  AttrNumber from_column = get_attnum(registry, "from_id");
  AttrNumber schema_column = get_attnum(registry, "schema_name");
  AttrNumber table_column = get_attnum(registry, "table_name");
  Datum wanted = DirectFunctionCall1(uuid_in, CStringGetDatum(options.attachment));
  bool registered = false;
  Oid latest_relid = InvalidOid;
  Datum latest_from = (Datum) 0;
  char* latest_schema = nullptr;
  char* latest_table = nullptr;
  ScanLatest(windows, [&](TupleTableSlot* slot) {
    bool id_null = false, relid_null = false, from_null = false;
    Datum id = slot_getattr(slot, id_column, &id_null);
    if (id_null || !DatumGetBool(DirectFunctionCall2(uuid_eq, id, wanted))) return true;
    Datum from = slot_getattr(slot, from_column, &from_null);
    Datum window_relid = slot_getattr(slot, relid_column, &relid_null);
    if (!registered || DatumGetInt32(DirectFunctionCall2(uuid_cmp, from, latest_from)) > 0) {
      latest_from = datumCopy(from, false, UUID_LEN);
      latest_relid = relid_null ? InvalidOid : DatumGetObjectId(window_relid);
      bool schema_null = false, table_null = false;
      Datum schema_name = slot_getattr(slot, schema_column, &schema_null);
      Datum table_name = slot_getattr(slot, table_column, &table_null);
      latest_schema = schema_null ? nullptr : TextDatumGetCString(schema_name);
      latest_table = table_null ? nullptr : TextDatumGetCString(table_name);
    }
    registered = true;
    return true;
  });
  table_close(windows, AccessShareLock);
  if (!registered || latest_relid == relid) return;
  // A superuser may hand an identity over only to the table it was last registered under by
  // name: what pg_restore does (same names, new OIDs). Never to another table.
  char* schema = get_namespace_name(get_rel_namespace(relid));
  bool same_names = latest_schema != nullptr && latest_table != nullptr && schema != nullptr &&
                    strcmp(latest_schema, schema) == 0 && strcmp(latest_table, table) == 0;
  if (!superuser() || !same_names)
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("trigger \"%s\" names the attachment of another table than \"%s\"", statement->trigname, table),
                    errdetail("Attachment %s is the identity of another attached table, or of one that was dropped or "
                              "detached; retention applies to that table's archive rows.",
                              options.attachment),
                    errhint("Attach the table with SELECT deleted_record_attach(...), which gives it an identity of its "
                            "own.")));
  // A superuser (pg_restore, say) hands the identity to this table of the same names.
  char* command = psprintf("UPDATE %s.deleted_record_attachment SET relid = $1 WHERE attachment_id = $2 AND from_id = $3",
                           quote_identifier(get_namespace_name(archive->schema)));
  Oid types[3] = {OIDOID, UUIDOID, UUIDOID};
  Datum values[3] = {ObjectIdGetDatum(relid), wanted, latest_from};
  ConnectSpi();
  if (SPI_execute_with_args(command, 3, types, values, nullptr, false, 0) != SPI_OK_UPDATE)
    elog(ERROR, "deleted_record: could not rebind attachment %s", options.attachment);
  FinishSpi();
}

}  // namespace

void CheckNewArchiveTrigger(EventTriggerData* event) {
  if (creating_extension || get_extension_oid("deleted_record", true) == InvalidOid) return;
  Node* tree = event->parsetree;
  if (IsA(tree, CreateTrigStmt)) {
    CheckCreatedTrigger(castNode(CreateTrigStmt, tree), nullptr);
  } else if (IsA(tree, CreateSchemaStmt)) {
    // CREATE SCHEMA s CREATE TABLE t ... CREATE TRIGGER ... ON t: the same checks, every one.
    CreateSchemaStmt* schema = castNode(CreateSchemaStmt, tree);
    const char* name = schema->schemaname;
    if (name == nullptr && schema->authrole != nullptr)
      name = get_rolespec_name(schema->authrole);  // CREATE SCHEMA AUTHORIZATION role
    ListCell* element;
    foreach (element, schema->schemaElts)
      if (IsA(lfirst(element), CreateTrigStmt)) CheckCreatedTrigger(castNode(CreateTrigStmt, lfirst(element)), name);
  }
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
    boundary::OutputBuffer updated;
    bool changed = false;
    boundary::Verdict verdict = WithBuffer(&updated, [&](boundary::OutputBuffer* into) {
      return boundary::UpdateAttachmentArgument(trigger->tgargs[0], old_name, new_name, AsNameList(columns), into, &changed);
    });
    if (!verdict.ok)
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("trigger \"%s\" on table %s: %s", trigger->tgname, table, verdict.message)));
    if (!changed) continue;
    if (changes == nullptr) changes = static_cast<Change*>(palloc(sizeof(Change) * triggers->numtriggers));
    changes[change_count++] = {trigger->tgoid, pstrdup(trigger->tgname), trigger->tgenabled,
                               static_cast<char*>(updated.data)};
  }
  table_close(rel, NoLock);
  for (int i = 0; i < change_count; ++i)
    RecreateTrigger(changes[i].trigger, table, changes[i].name, changes[i].enabled, changes[i].argument);
}

}  // namespace deleted_record::glue
