// Marking: the restored archive rows get restored_at/restored_by, written as the archive's owner
// (through the one owner switch, glue/owner.hpp), and each selected row's outcome is returned.
#include "glue/archive_table.hpp"
#include "glue/owner.hpp"
#include "glue/restore/restore_state.hpp"

namespace deleted_record::glue::restore {

namespace {

// OwnerQuery is one statement run as the owner (the work handed to AsExtensionOwner).
struct OwnerQuery {
  const char* query;
  int nargs;
  Oid* types;
  Datum* values;
  int expected;
};

void RunOwnerQuery(void* argument) {
  const OwnerQuery* work = static_cast<const OwnerQuery*>(argument);
  RunQuery(work->query, work->nargs, work->types, work->values, false, work->expected);
}

}  // namespace

// RunQueryAsOwner runs a query as the archive's owner through the one owner switch
// (glue/owner.hpp: search_path pinned; the query still qualifies every operator and function).
void RunQueryAsOwner(const Restore* restore, const char* query, int nargs, Oid* types, Datum* values, int expected) {
  OwnerQuery work = {query, nargs, types, values, expected};
  AsExtensionOwner(restore->owner, RunOwnerQuery, &work);
}

// MarkRestored records restored_at/restored_by on the archive rows restored, as the owner.
void MarkRestored(Restore* restore) {
  int count = 0;
  Datum* ids = RestoredIds(restore, &count);
  if (count == 0) return;
  ArchiveIds rows = ArchiveIdsOf("a", "$1", count);
  // (UPDATE's FROM list starts after its SET: the unnest of the large form goes there.)
  char* query = psprintf("UPDATE %s a SET restored_at = pg_catalog.now(), restored_by = $2%s WHERE %s", restore->archive_name,
                         rows.from[0] != '\0' ? psprintf(" FROM %s", rows.from + 2) : "", rows.where);
  Oid types[2] = {UUIDARRAYOID, TEXTOID};
  Datum values[2] = {UuidArray(ids, count), CStringGetTextDatum(restore->role)};
  RunQueryAsOwner(restore, query, 2, types, values, SPI_OK_UPDATE);
}

// EmitResults writes one result row per selected archive row.
void EmitResults(FunctionCallInfo fcinfo, Restore* restore) {
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* result = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (int i = 0; i < restore->candidate_count; ++i) {
    Candidate* candidate = &restore->candidates[i];
    Target* target = &restore->targets[candidate->target];
    Datum values[5];
    bool nulls[5] = {false, !OidIsValid(target->relid), candidate->object_id == nullptr, false, candidate->detail == nullptr};
    values[0] = candidate->id;
    values[1] = ObjectIdGetDatum(target->relid);
    values[2] = candidate->object_id != nullptr ? CStringGetTextDatum(candidate->object_id) : (Datum) 0;
    const char* outcome = "restored";
    switch (candidate->outcome) {
      case Outcome::kRestored: outcome = restore->dry_run ? "would restore" : "restored"; break;
      case Outcome::kSkipped: outcome = restore->dry_run ? "would skip" : "skipped"; break;
      case Outcome::kAlreadyRestored: outcome = "already restored"; break;
    }
    values[3] = CStringGetTextDatum(outcome);
    values[4] = candidate->detail != nullptr ? CStringGetTextDatum(candidate->detail) : (Datum) 0;
    if (!OidIsValid(target->relid)) {  // every row of it was restored before: name it if it exists
      Oid namespace_oid = get_namespace_oid(target->schema_name, true);
      Oid relid = OidIsValid(namespace_oid) ? get_relname_relid(target->table_name, namespace_oid) : InvalidOid;
      nulls[1] = !OidIsValid(relid);
      values[1] = ObjectIdGetDatum(relid);
    }
    tuplestore_putvalues(result->setResult, result->setDesc, values, nulls);
  }
}

}  // namespace deleted_record::glue::restore
