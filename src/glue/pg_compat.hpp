// pg_compat.hpp: every PostgreSQL API difference between the supported servers (15 and 18)
// that the glue meets, in one place, behind version-neutral names; written for 16 and 17 too.
// Include it after the C++ standard headers (PostgreSQL's port.h redefines printf-family
// names), e.g. from glue/postgres_api.hpp. Wrappers live in deleted_record::compat (the names
// of the former compat_local.hpp are kept); macros start with PG_COMPAT_; a function a newer
// server added is back-filled under its own name for older servers.
//
// Checked and unchanged from 15 to 18, so called directly: DefineCustom{String,Enum,...}Variable,
// MarkGUCPrefixReserved (15 renamed it from EmitWarningsOnPlaceholders), set_config_option,
// NewGUCNestLevel/AtEOXact_GUC, InitResultRelInfo, ExecOpenIndices/ExecCloseIndices,
// table_multi_insert, ExecComputeStoredGenerated (18's virtual generated columns are not
// stored, so it skips them), ExecutorStart_hook (an 18 beta made it return bool; reverted before
// 18.0), ExecutorFinish_hook, ProcessUtility_hook (readOnlyTree since 14), JsonEncodeDateTime,
// pushJsonbValue/JsonbValueToJsonb/JsonbIterator* (19 reworks the parse state), common/hmac.h
// (pg_hmac_create/init/update/final/free/error), RelationGetPartitionDesc(rel, omit_detached),
// get_partition_ancestors, find_all_inheritors, GetUserIdAndSecContext/SetUserIdAndSecContext,
// heap_form_tuple/heap_deform_tuple, SPI_*, find_coercion_pathway, makeFuncExpr, makeNullConst,
// Form_pg_attribute and TupleDescAttr (18 made it an inline function with the same result),
// MemoryContextSwitchTo (inline in utils/palloc.h, which postgres.h brings; context creation in
// utils/memutils.h), cache and transaction callbacks. 16 turned the Datum macros
// (DatumGetInt32, PointerGetDatum...) into inline functions: same calls, stricter types.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/tupdesc.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/nodeModifyTable.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/acl.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/jsonb.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
#if PG_VERSION_NUM >= 160000
#include "nodes/miscnodes.h"
#endif
}

#if PG_VERSION_NUM < 150000
#error "deleted_record needs PostgreSQL 15 or later"
#endif

// ---- Module magic --------------------------------------------------------------------------

// 18: PG_MODULE_MAGIC_EXT also records the module's name and version (pg_get_loaded_modules()).
// Use it instead of PG_MODULE_MAGIC, once, at file scope inside extern "C".
#if PG_VERSION_NUM >= 180000
#define PG_COMPAT_MODULE_MAGIC(module_name, module_version) \
  PG_MODULE_MAGIC_EXT(.name = module_name, .version = module_version)
#else
#define PG_COMPAT_MODULE_MAGIC(module_name, module_version) PG_MODULE_MAGIC
#endif

// ---- Ownership and privileges --------------------------------------------------------------

// 16: the per-class pg_<class>_ownercheck()/pg_<class>_aclcheck() became object_ownercheck() and
// object_aclcheck(classid, objectid, ...); back-filled for 15 for the catalogs the glue may check.
// Relations keep pg_class_aclcheck() (it knows column privileges) on every version.
#if PG_VERSION_NUM < 160000
static inline bool object_ownercheck(Oid classid, Oid objectid, Oid roleid) {
  switch (classid) {
    case RelationRelationId: return pg_class_ownercheck(objectid, roleid);
    case NamespaceRelationId: return pg_namespace_ownercheck(objectid, roleid);
    case ProcedureRelationId: return pg_proc_ownercheck(objectid, roleid);
    case TypeRelationId: return pg_type_ownercheck(objectid, roleid);
    case DatabaseRelationId: return pg_database_ownercheck(objectid, roleid);
    default: elog(ERROR, "object_ownercheck: catalog %u is not supported on PostgreSQL 15", classid);
  }
  return false;
}

static inline AclResult object_aclcheck(Oid classid, Oid objectid, Oid roleid, AclMode mode) {
  switch (classid) {
    case NamespaceRelationId: return pg_namespace_aclcheck(objectid, roleid, mode);
    case ProcedureRelationId: return pg_proc_aclcheck(objectid, roleid, mode);
    case TypeRelationId: return pg_type_aclcheck(objectid, roleid, mode);
    case DatabaseRelationId: return pg_database_aclcheck(objectid, roleid, mode);
    default: elog(ERROR, "object_aclcheck: catalog %u is not supported on PostgreSQL 15", classid);
  }
  return ACLCHECK_NO_PRIV;
}
#endif

namespace deleted_record::compat {

// ---- Settings (GUCs) -----------------------------------------------------------------------

// GucMalloc allocates a setting's "extra" the way the server frees it. 16: GUC memory lives in
// its own memory context (guc_malloc/guc_free); 15 uses malloc/free.
inline void* GucMalloc(Size size) {
#if PG_VERSION_NUM >= 160000
  return guc_malloc(LOG, size);
#else
  return malloc(size);
#endif
}

inline void GucFree(void* pointer) {
#if PG_VERSION_NUM >= 160000
  guc_free(pointer);
#else
  free(pointer);
#endif
}

// GucVariables returns every setting. 16: GUCs live in a hash table, get_guc_variables(int *num_vars)
// returns a sorted palloc'd copy and GetNumConfigOptions() is gone; 15 returns its live array.
inline struct config_generic** GucVariables(int* count) {
#if PG_VERSION_NUM >= 160000
  return get_guc_variables(count);
#else
  *count = GetNumConfigOptions();
  return get_guc_variables();
#endif
}

// FreeGucVariables releases what GucVariables returned (a copy from 16 on, the live array before).
inline void FreeGucVariables(struct config_generic** variables) {
#if PG_VERSION_NUM >= 160000
  pfree(variables);
#else
  (void) variables;
#endif
}

// ---- Soft input ----------------------------------------------------------------------------

// FormatInputError renders jsonb_in's complaint ("invalid input syntax for type json", what is
// wrong in the detail) as "is not valid JSON: <what>" into problem.
inline void FormatInputError(const char* message, const char* detail, char* problem, size_t size) {
  const char* what = detail != nullptr ? detail : message;
  int length = static_cast<int>(strlen(what));
  if (length > 0 && what[length - 1] == '.') length--;
  snprintf(problem, size, "is not valid JSON: %.*s", length, what);
}

// JsonbInputSafe runs jsonb_in on text and returns false with its message instead of raising
// the error for invalid input. 16 has soft errors (DirectInputFunctionCallSafe); on 15 the
// error is caught: jsonb_in only allocates memory, so no resource needs the subtransaction
// cleanup a catch normally requires. Errors other than data exceptions and program limits
// (cancel, out of memory) are re-thrown.
inline bool JsonbInputSafe(const char* text, Jsonb** result, char* problem, size_t size) {
#if PG_VERSION_NUM >= 160000
  ErrorSaveContext escontext = {};
  escontext.type = T_ErrorSaveContext;
  escontext.details_wanted = true;
  Datum value;
  if (DirectInputFunctionCallSafe(jsonb_in, const_cast<char*>(text), InvalidOid, -1,
                                  reinterpret_cast<Node*>(&escontext), &value)) {
    *result = DatumGetJsonbP(value);
    return true;
  }
  FormatInputError(escontext.error_data->message, escontext.error_data->detail, problem, size);
  return false;
#else
  MemoryContext context = CurrentMemoryContext;
  volatile Datum value = (Datum) 0;
  ErrorData* volatile error = nullptr;
  PG_TRY();
  {
    value = DirectFunctionCall1(jsonb_in, CStringGetDatum(text));
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(context);
    ErrorData* caught = CopyErrorData();
    int category = ERRCODE_TO_CATEGORY(caught->sqlerrcode);
    if (category != ERRCODE_DATA_EXCEPTION && category != ERRCODE_PROGRAM_LIMIT_EXCEEDED) {
      FreeErrorData(caught);
      PG_RE_THROW();
    }
    FlushErrorState();
    error = caught;
  }
  PG_END_TRY();
  if (error == nullptr) {
    *result = DatumGetJsonbP(value);
    return true;
  }
  FormatInputError(error->message, error->detail, problem, size);
  return false;
#endif
}

// ---- Executor ------------------------------------------------------------------------------

// InsertIndexTuples inserts the index entries of a freshly inserted row. 16 added the last
// argument of ExecInsertIndexTuples(), onlySummarizing (HOT updates touching only summarizing
// indexes such as BRIN); an insert passes false.
inline List* InsertIndexTuples(ResultRelInfo* result_relation, TupleTableSlot* slot, EState* estate) {
#if PG_VERSION_NUM >= 160000
  return ExecInsertIndexTuples(result_relation, slot, estate, false, false, nullptr, NIL, false);
#else
  return ExecInsertIndexTuples(result_relation, slot, estate, false, false, nullptr, NIL);
#endif
}

// ComputeStoredGenerated fills the stored generated columns of a row about to be inserted
// (unchanged 15-18; 18's virtual generated columns are computed on read, not here).
inline void ComputeStoredGenerated(ResultRelInfo* result_relation, EState* estate, TupleTableSlot* slot) {
  ExecComputeStoredGenerated(result_relation, estate, slot, CMD_INSERT);
}

// ---- Relations and tuple descriptors -------------------------------------------------------

// PrimaryKeyIndex returns the primary key's index, InvalidOid without one. A DEFERRABLE
// primary key is the table's key too, which RelationGetPrimaryKeyIndex never reports on 15-17
// (18 only with deferrable_ok), so the index list is read on every version.
inline Oid PrimaryKeyIndex(Relation relation) {
  List* indexes = RelationGetIndexList(relation);
  Oid primary = InvalidOid;
  ListCell* cell;
  foreach (cell, indexes) {
    HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(cell)));
    if (!HeapTupleIsValid(tuple)) continue;
    if (reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple))->indisprimary) primary = lfirst_oid(cell);
    ReleaseSysCache(tuple);
    if (OidIsValid(primary)) break;
  }
  list_free(indexes);
  return primary;
}

}  // namespace deleted_record::compat
