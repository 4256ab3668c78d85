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
#include "common/jsonapi.h"
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

// ---- Executor hooks ------------------------------------------------------------------------

// 18: ExecutorRun(), standard_ExecutorRun() and ExecutorRun_hook lost the execute_once argument.
// A hook is written as
//   void OnExecutorRun(PG_COMPAT_EXECUTOR_RUN_PARAMS) { ... previous(PG_COMPAT_EXECUTOR_RUN_ARGS); }
#if PG_VERSION_NUM >= 180000
#define PG_COMPAT_EXECUTOR_RUN_PARAMS QueryDesc *query_desc, ScanDirection direction, uint64 count
#define PG_COMPAT_EXECUTOR_RUN_ARGS query_desc, direction, count
#else
#define PG_COMPAT_EXECUTOR_RUN_PARAMS \
  QueryDesc *query_desc, ScanDirection direction, uint64 count, bool execute_once
#define PG_COMPAT_EXECUTOR_RUN_ARGS query_desc, direction, count, execute_once
#endif

// ---- Soft errors ---------------------------------------------------------------------------

// 16: input functions can report bad input softly through an ErrorSaveContext
// (InputFunctionCallSafe, DirectInputFunctionCallSafe, SOFT_ERROR_OCCURRED); 15 can only throw.
#define PG_COMPAT_HAVE_SOFT_ERRORS (PG_VERSION_NUM >= 160000)

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

// ---- Memory --------------------------------------------------------------------------------

// 16: palloc_object/palloc_array and their 0 variants; back-filled for 15.
#ifndef palloc_object
#define palloc_object(type) ((type*) palloc(sizeof(type)))
#define palloc0_object(type) ((type*) palloc0(sizeof(type)))
#define palloc_array(type, count) ((type*) palloc(sizeof(type) * (count)))
#define palloc0_array(type, count) ((type*) palloc0(sizeof(type) * (count)))
#endif

// ---- JSON semantic actions -----------------------------------------------------------------

// 16: JSON semantic actions return JsonParseErrorType (JSON_SUCCESS continues,
// JSON_SEM_ACTION_FAILED stops the parse) instead of void, so 15 can stop only by throwing.
//   PG_COMPAT_JSON_ACTION_RESULT OnObjectStart(void* state) { ...; PG_COMPAT_JSON_ACTION_OK; }
#if PG_VERSION_NUM >= 160000
#define PG_COMPAT_JSON_ACTION_RESULT JsonParseErrorType
#define PG_COMPAT_JSON_ACTION_OK return JSON_SUCCESS
#else
#define PG_COMPAT_JSON_ACTION_RESULT void
#define PG_COMPAT_JSON_ACTION_OK return
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

#if PG_VERSION_NUM >= 160000
// InputSafe converts text with a type's input function; false on bad input (16 and later only:
// on 15 use JsonbInputSafe for JSON, or JsonValidate, which never needs to catch anything).
inline bool InputSafe(FmgrInfo* input, char* text, Oid type_io_param, int32 typmod, Datum* result) {
  ErrorSaveContext escontext = {};
  escontext.type = T_ErrorSaveContext;
  return InputFunctionCallSafe(input, text, type_io_param, typmod, reinterpret_cast<Node*>(&escontext), result);
}
#endif

// ---- JSON lexer ----------------------------------------------------------------------------

// JsonLexer makes a lexer for pg_parse_json. 17: makeJsonLexContextCstringLen() takes a caller's
// JsonLexContext (or NULL), a const string and a size_t length, and freeJsonLexContext() frees
// it; 15 and 16 take (char *, int). 17 also made pg_parse_json's actions argument const.
inline JsonLexContext* JsonLexer(const char* json, size_t length, bool need_escapes) {
#if PG_VERSION_NUM >= 170000
  return makeJsonLexContextCstringLen(nullptr, json, length, GetDatabaseEncoding(), need_escapes);
#else
  return makeJsonLexContextCstringLen(const_cast<char*>(json), static_cast<int>(length), GetDatabaseEncoding(),
                                      need_escapes);
#endif
}

inline void FreeJsonLexer(JsonLexContext* lexer) {
#if PG_VERSION_NUM >= 170000
  freeJsonLexContext(lexer);
#else
  if (lexer->strval != nullptr) {
    pfree(lexer->strval->data);
    pfree(lexer->strval);
  }
  pfree(lexer);
#endif
}

// JsonValidate checks json against PostgreSQL's own JSON grammar and never throws for bad JSON:
// true when valid, else false and *detail (palloc'd, when detail is not null) says what is
// wrong. 17 ties json_errdetail()'s text to the lexer, hence the copy.
inline bool JsonValidate(const char* json, size_t length, char** detail) {
  JsonLexContext* lexer = JsonLexer(json, length, false);
  JsonParseErrorType result = pg_parse_json(lexer, &nullSemAction);
  bool valid = result == JSON_SUCCESS;
  if (detail != nullptr) *detail = valid ? nullptr : pstrdup(json_errdetail(result, lexer));
  FreeJsonLexer(lexer);
  return valid;
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

// AttributeIsDropped reads attisdropped. 18: a TupleDesc also holds a CompactAttribute per
// column (TupleDescCompactAttr()), which hot loops should read instead of the pg_attribute row.
inline bool AttributeIsDropped(TupleDesc descriptor, int index) {
#if PG_VERSION_NUM >= 180000
  return TupleDescCompactAttr(descriptor, index)->attisdropped;
#else
  return TupleDescAttr(descriptor, index)->attisdropped;
#endif
}

// AttributeChanged must follow a hand-made change to a TupleDescAttr() row. 18:
// populate_compact_attribute() copies it into the compact array (TupleDescInitEntry and
// CreateTupleDescCopy do that themselves); nothing to do before 18.
inline void AttributeChanged(TupleDesc descriptor, int index) {
#if PG_VERSION_NUM >= 180000
  populate_compact_attribute(descriptor, index);
#else
  (void) descriptor;
  (void) index;
#endif
}

}  // namespace deleted_record::compat
