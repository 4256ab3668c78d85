// The deletion context: what a delete records of the settings, and deleted_record_set_context().
#include "glue/deletion_context.hpp"

#include "glue/citus.hpp"
#include "glue/settings.hpp"

namespace deleted_record::glue {

namespace {

// MissingContextHint says how to set what require_context found missing.
const char* MissingContextHint(RequiredContext policy, bool has_actor, bool has_reason) {
  bool need_actor = (policy == RequiredContext::kActor || policy == RequiredContext::kActorAndReason) && !has_actor;
  bool need_reason = (policy == RequiredContext::kReason || policy == RequiredContext::kActorAndReason) && !has_reason;
  if (need_actor && need_reason) return "Set both first: SELECT deleted_record_set_context('<actor>', '<reason>').";
  if (need_actor) return "Set it first: SET LOCAL deleted_record.actor = '<who>'.";
  return "Set it first: SET LOCAL deleted_record.reason = '<why>'.";
}

}  // namespace

void ReadDeletionContext(const char* qualified_relation_name, SuppliedContext supplied, DeletionContext* context) {
  RefuseUnhonourableSettings(qualified_relation_name);
  ContextValues values = CurrentContextValues();
  bool has_actor = values.actor != nullptr;
  bool has_reason = values.reason != nullptr;
  if (values.required != RequiredContext::kNone) {
    boundary::Verdict verdict =
        boundary::CheckRequiredContext(values.required, has_actor || supplied.actor, has_reason || supplied.reason);
    if (!verdict.ok)
      ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                      errmsg("deleting from %s requires %s", qualified_relation_name, verdict.message),
                      errdetail("deleted_record.require_context is \"%s\".", boundary::RequiredContextName(values.required)),
                      errhint("%s", MissingContextHint(values.required, has_actor, has_reason))));
  }
  context->actor_is_null = !has_actor;
  context->actor = has_actor ? CStringGetTextDatum(values.actor) : (Datum) 0;
  context->reason_is_null = !has_reason;
  context->reason = has_reason ? CStringGetTextDatum(values.reason) : (Datum) 0;
  context->metadata_is_null = values.metadata == nullptr;
  context->metadata = context->metadata_is_null ? (Datum) 0 : JsonbPGetDatum(values.metadata);
}

void SetContextForTransaction(text* actor, text* reason, Jsonb* metadata) {
  // No error context callback means no PL/pgSQL, SQL function or SPI frame is running us: the
  // call is the top-level statement itself, so outside a transaction block its transaction-local
  // settings end right after it.
  if (!IsTransactionBlock() && error_context_stack == nullptr)
    ereport(ERROR, (errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
                    errmsg("deleted_record_set_context() must be called inside a transaction block"),
                    errdetail("Outside BEGIN … COMMIT its settings last only until the end of this statement, so "
                              "they would never reach a later DELETE."),
                    errhint("Run it in the same transaction as the delete: BEGIN; SELECT deleted_record_set_context(…); "
                            "DELETE …; COMMIT;")));
  if (metadata != nullptr && !JB_ROOT_IS_OBJECT(metadata))
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("deleted_record_set_context: metadata must be a JSON object, not %s", JsonbKindName(metadata))));
  SetContextSettingsLocally(actor != nullptr ? text_to_cstring(actor) : "", reason != nullptr ? text_to_cstring(reason) : "",
                            metadata != nullptr ? JsonbToCString(nullptr, &metadata->root, VARSIZE(metadata)) : "");
  // On Citus the workers archive the rows of their shards: they get the context too.
  if (CitusPresent()) (void) PropagateContextSettings(true);
}

}  // namespace deleted_record::glue
