// deleted_record.actor / .reason / .metadata / .require_context: definitions, validation
// (through the core) and the per-delete read. Values are read at every delete; only the
// text -> jsonb conversion of metadata is remembered, keyed by the exact text.
#include "glue/settings.hpp"

namespace deleted_record::glue {

namespace {

char* actor_setting = nullptr;
char* reason_setting = nullptr;
char* metadata_setting = nullptr;
int require_context_setting = 0;

const struct config_enum_entry kRequireContextOptions[] = {
    {"none", 0, false},
    {"actor", 1, false},
    {"reason", 2, false},
    {"actor_and_reason", 3, false},
    {nullptr, 0, false},
};

// The last metadata text converted to jsonb, and the result, both in metadata_cache_context.
MemoryContext metadata_cache_context = nullptr;
char* cached_metadata_text = nullptr;
Datum cached_metadata = (Datum) 0;

bool CheckMetadataSetting(char** newval, void** extra, GucSource source) {
  boundary::Verdict verdict = boundary::CheckMetadata(*newval);
  if (verdict.ok) return true;
  GUC_check_errdetail("deleted_record.metadata %s.", verdict.message);
  GUC_check_errhint("Use a JSON object, for example SET deleted_record.metadata = '{\"ticket\": \"T-1\"}'.");
  return false;
}

bool IsSet(const char* value) { return value != nullptr && value[0] != '\0'; }

// MetadataAsJsonb converts the setting's text once per distinct value.
Datum MetadataAsJsonb(const char* text) {
  if (cached_metadata_text != nullptr && strcmp(cached_metadata_text, text) == 0) return cached_metadata;
  if (metadata_cache_context == nullptr)
    metadata_cache_context = AllocSetContextCreate(TopMemoryContext, "deleted_record metadata", ALLOCSET_SMALL_SIZES);
  cached_metadata_text = nullptr;
  MemoryContextReset(metadata_cache_context);
  MemoryContext old = MemoryContextSwitchTo(metadata_cache_context);
  Datum converted = DirectFunctionCall1(jsonb_in, CStringGetDatum(text));
  char* copy = pstrdup(text);
  MemoryContextSwitchTo(old);
  cached_metadata = converted;
  cached_metadata_text = copy;
  return cached_metadata;
}

// MissingContextHint says how to set what require_context found missing.
const char* MissingContextHint(int policy, bool has_actor, bool has_reason) {
  bool need_actor = (policy == 1 || policy == 3) && !has_actor;
  bool need_reason = (policy == 2 || policy == 3) && !has_reason;
  if (need_actor && need_reason) return "Set both first: SELECT deleted_record_set_context('<actor>', '<reason>').";
  if (need_actor) return "Set it first: SET LOCAL deleted_record.actor = '<who>'.";
  return "Set it first: SET LOCAL deleted_record.reason = '<why>'.";
}

const char* RequireContextName(int value) {
  for (const config_enum_entry* option = kRequireContextOptions; option->name != nullptr; ++option)
    if (option->val == value) return option->name;
  return "?";
}

}  // namespace

void DefineSettings() {
  DefineCustomStringVariable("deleted_record.actor",
                             "Who is deleting: stored in deleted_record.actor of each archived row.",
                             "Self-declared; the archive also records the real session and current user.",
                             &actor_setting, "", PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable("deleted_record.reason", "Why rows are deleted: stored in deleted_record.reason.",
                             nullptr, &reason_setting, "", PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable("deleted_record.metadata",
                             "A JSON object stored in deleted_record.metadata of each archived row.", nullptr,
                             &metadata_setting, "", PGC_USERSET, 0, CheckMetadataSetting, nullptr, nullptr);
  DefineCustomEnumVariable("deleted_record.require_context",
                           "Makes deletes from attached tables fail unless the actor and/or reason is set.",
                           "none, actor, reason or actor_and_reason.", &require_context_setting, 0,
                           kRequireContextOptions, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("deleted_record");
}

void ReadDeletionContext(const char* qualified_relation_name, DeletionContext* context) {
  bool has_actor = IsSet(actor_setting);
  bool has_reason = IsSet(reason_setting);
  if (require_context_setting != 0) {
    boundary::Verdict verdict = boundary::CheckRequiredContext(require_context_setting, has_actor, has_reason);
    if (!verdict.ok)
      ereport(ERROR,
              (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
               errmsg("deleting from %s requires %s", qualified_relation_name, verdict.message),
               errdetail("deleted_record.require_context is \"%s\".", RequireContextName(require_context_setting)),
               errhint("%s", MissingContextHint(require_context_setting, has_actor, has_reason))));
  }
  context->actor_is_null = !has_actor;
  context->actor = has_actor ? CStringGetTextDatum(actor_setting) : (Datum) 0;
  context->reason_is_null = !has_reason;
  context->reason = has_reason ? CStringGetTextDatum(reason_setting) : (Datum) 0;
  context->metadata_is_null = !IsSet(metadata_setting);
  context->metadata = context->metadata_is_null ? (Datum) 0 : MetadataAsJsonb(metadata_setting);
}

}  // namespace deleted_record::glue
