// deleted_record.actor / .reason / .metadata / .require_context / .partition_period: their
// definitions, their checks, and what they hold now. What a delete makes of them (the deletion
// context) lives in deletion_context.cpp.
//
// Checks happen where PostgreSQL can report them: a bad value in SET, set_config or ALTER ROLE
// is an error right there. Values PostgreSQL hands over without a chance to refuse them (set
// before this library was loaded, or from a role/database setting at login) are accepted as
// they are and remembered as unhonourable in the setting's "extra"; every delete then fails
// with an error naming the setting and the value, until the setting is changed or reset.
// Misspelt names under the deleted_record. prefix set before loading are kept the same way, as
// settings that make deletes fail while they hold a value.
#include "glue/settings.hpp"

namespace deleted_record::glue {

const char* JsonbKindName(Jsonb* document) {
  if (JB_ROOT_IS_ARRAY(document) && !JB_ROOT_IS_SCALAR(document)) return "an array";
  JsonbValue scalar;
  if (!JsonbExtractScalar(&document->root, &scalar)) return "not an object";
  switch (scalar.type) {
    case jbvNull: return "null";
    case jbvString: return "a string";
    case jbvNumeric: return "a number";
    case jbvBool: return "a boolean";
    default: return "a scalar";
  }
}

namespace {

// What a check hook learnt about a value; PostgreSQL keeps it with the value (its "extra") and
// restores it with the value on rollback. For metadata, the jsonb follows the struct.
struct CheckedSetting {
  bool honourable;
  RequiredContext required;  // require_context only
  char problem[256];         // why it cannot be honoured
  Size jsonb_size;           // metadata only: 0 when unset
  GucSource source;          // where the value came from (Citus: whether the workers have it too)
};

constexpr Size kJsonbOffset = MAXALIGN(sizeof(CheckedSetting));

Jsonb* CheckedJsonb(const CheckedSetting* checked) {
  return reinterpret_cast<Jsonb*>(reinterpret_cast<char*>(const_cast<CheckedSetting*>(checked)) + kJsonbOffset);
}

char* actor_setting = nullptr;
char* reason_setting = nullptr;
char* metadata_setting = nullptr;
char* require_context_setting = nullptr;
int partition_period_setting = 2;

// The span of new archive partitions (read by deleted_record_prepare_partitions).
const struct config_enum_entry kPartitionPeriods[] = {
    {"day", 0, false}, {"week", 1, false}, {"month", 2, false}, {nullptr, 0, false}};
const CheckedSetting* actor_checked = nullptr;
const CheckedSetting* reason_checked = nullptr;
const CheckedSetting* metadata_checked = nullptr;
const CheckedSetting* require_context_checked = nullptr;

// The names of the real settings, without the prefix (for "did you mean").
const char* const kSettingNames[] = {"actor", "reason", "metadata", "require_context", "partition_period"};
constexpr int kSettingCount = sizeof(kSettingNames) / sizeof(kSettingNames[0]);
constexpr char kPrefix[] = "deleted_record.";

// Names set under the prefix before loading that are not settings of ours.
struct MisspeltSetting {
  char* name;
  char* value;
};
MisspeltSetting* misspelt_settings = nullptr;
int misspelt_count = 0;

// True while DefineSettings re-applies values PostgreSQL stored before the library was loaded.
bool defining_settings = false;

bool IsSet(const char* value) { return value != nullptr && value[0] != '\0'; }

// AcceptAsIs is true where refusing a value would only turn it into a WARNING and drop it:
// values re-applied while the library loads (in a parallel worker too, which copies the
// leader's values) and role/database settings applied at login.
bool AcceptAsIs(GucSource source) {
  return defining_settings || InitializingParallelWorker || source == PGC_S_GLOBAL || source == PGC_S_DATABASE ||
         source == PGC_S_USER || source == PGC_S_DATABASE_USER;
}

CheckedSetting* NewCheckedSetting(Size jsonb_size, GucSource source) {
  auto* checked = static_cast<CheckedSetting*>(compat::GucMalloc(kJsonbOffset + jsonb_size));
  if (checked == nullptr) return nullptr;
  memset(checked, 0, sizeof(CheckedSetting));
  checked->honourable = true;
  checked->jsonb_size = jsonb_size;
  checked->source = source;
  return checked;
}

void SetProblem(CheckedSetting* checked, const char* problem) {
  checked->honourable = false;
  strlcpy(checked->problem, problem, sizeof(checked->problem));
}

// CheckMetadataText parses text exactly as jsonb_in does (in the database's encoding) and
// keeps the result, so what is accepted is what is stored.
CheckedSetting* CheckMetadataText(const char* text, GucSource source) {
  if (!IsSet(text)) return NewCheckedSetting(0, source);
  MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext, "deleted_record metadata check",
                                                ALLOCSET_SMALL_SIZES);
  MemoryContext old = MemoryContextSwitchTo(scratch);
  char problem[256] = "";
  Jsonb* document = nullptr;
  if (!compat::JsonbInputSafe(text, &document, problem, sizeof(problem))) {
    // problem holds jsonb_in's own message
  } else if (!JB_ROOT_IS_OBJECT(document)) {
    snprintf(problem, sizeof(problem), "must be a JSON object, not %s", JsonbKindName(document));
    document = nullptr;
  }
  MemoryContextSwitchTo(old);
  CheckedSetting* checked = NewCheckedSetting(document != nullptr ? VARSIZE(document) : 0, source);
  if (checked != nullptr) {
    if (document != nullptr)
      memcpy(CheckedJsonb(checked), document, VARSIZE(document));
    else
      SetProblem(checked, problem);
  }
  MemoryContextDelete(scratch);
  return checked;
}

bool CheckMetadataSetting(char** newval, void** extra, GucSource source) {
  CheckedSetting* checked = CheckMetadataText(*newval, source);
  if (checked == nullptr) return false;
  if (!checked->honourable && !AcceptAsIs(source)) {
    GUC_check_errdetail("deleted_record.metadata %s.", checked->problem);
    GUC_check_errhint("Use a JSON object, for example SET deleted_record.metadata = '{\"ticket\": \"T-1\"}'.");
    compat::GucFree(checked);
    return false;
  }
  *extra = checked;
  return true;
}

void AssignMetadataSetting(const char* newval, void* extra) {
  metadata_checked = static_cast<const CheckedSetting*>(extra);
}

bool CheckRequireContextSetting(char** newval, void** extra, GucSource source) {
  CheckedSetting* checked = NewCheckedSetting(0, source);
  if (checked == nullptr) return false;
  boundary::Verdict verdict = boundary::ParseRequiredContext(*newval, &checked->required);
  if (!verdict.ok) {
    if (!AcceptAsIs(source)) {
      GUC_check_errhint("Available values: %s.", kRequiredContextValues);
      compat::GucFree(checked);
      return false;
    }
    SetProblem(checked, verdict.message);
  }
  *extra = checked;
  return true;
}

void AssignRequireContextSetting(const char* newval, void* extra) {
  require_context_checked = static_cast<const CheckedSetting*>(extra);
}

// actor and reason take any text; their check only records where the value came from.
bool CheckContextText(char** newval, void** extra, GucSource source) {
  CheckedSetting* checked = NewCheckedSetting(0, source);
  if (checked == nullptr) return false;
  *extra = checked;
  return true;
}

void AssignActorSetting(const char* newval, void* extra) { actor_checked = static_cast<const CheckedSetting*>(extra); }

void AssignReasonSetting(const char* newval, void* extra) { reason_checked = static_cast<const CheckedSetting*>(extra); }

// A misspelt name may be cleared (RESET, or set to ''), never given a value once loaded.
bool CheckMisspeltSetting(char** newval, void** extra, GucSource source) {
  if (!IsSet(*newval) || AcceptAsIs(source)) return true;
  GUC_check_errdetail("This is not a setting of deleted_record; it exists only because it was set before the "
                      "extension's library was loaded.");
  GUC_check_errhint("The settings are deleted_record.actor, .reason, .metadata, .require_context and .partition_period.");
  return false;
}

// DefineMisspeltSettings turns every remaining placeholder under our prefix into a setting
// that makes deletes fail while it holds a value.
void DefineMisspeltSettings() {
  int count = 0;
  struct config_generic** variables = compat::GucVariables(&count);
  char** names = static_cast<char**>(palloc0(sizeof(char*) * Max(count, 1)));
  int found = 0;
  for (int i = 0; i < count; ++i) {
    const struct config_generic* variable = variables[i];
    if ((variable->flags & GUC_CUSTOM_PLACEHOLDER) != 0 && strncmp(variable->name, kPrefix, strlen(kPrefix)) == 0)
      names[found++] = MemoryContextStrdup(TopMemoryContext, variable->name);
  }
  compat::FreeGucVariables(variables);
  if (found > 0) {
    misspelt_settings =
        static_cast<MisspeltSetting*>(MemoryContextAllocZero(TopMemoryContext, sizeof(MisspeltSetting) * found));
    for (int i = 0; i < found; ++i) {
      misspelt_settings[i].name = names[i];
      DefineCustomStringVariable(names[i], "Not a deleted_record setting: set before the library was loaded.",
                                 "Deletes from attached tables fail while it holds a value.",
                                 &misspelt_settings[i].value, "", PGC_USERSET, GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
                                 CheckMisspeltSetting, nullptr, nullptr);
      misspelt_count = i + 1;
    }
  }
  pfree(names);
}

// Shortened quotes a setting's value for a message, cutting long values.
char* Shortened(const char* value) {
  constexpr int kMaxShown = 200;
  int length = static_cast<int>(strlen(value));
  if (length <= kMaxShown) return pstrdup(value);
  int cut = pg_mbcliplen(value, length, kMaxShown);
  return psprintf("%.*s…", cut, value);
}

const char* SuggestedName(const char* misspelt) {
  int index = -1;
  if (!boundary::ClosestName(misspelt + strlen(kPrefix), kSettingNames, kSettingCount, &index)) return nullptr;
  return kSettingNames[index];
}

// RefuseSettings raises the error for the first setting whose value cannot be honoured.
void RefuseSettings(const char* relation) {
  static const char* const kWhy =
      "The value was never checked: it was set before the extension's library was loaded in this session, "
      "or comes from a role or database setting.";
  for (int i = 0; i < misspelt_count; ++i) {
    const MisspeltSetting* setting = &misspelt_settings[i];
    if (!IsSet(setting->value)) continue;
    const char* suggestion = SuggestedName(setting->name);
    ereport(ERROR,
            (errcode(ERRCODE_UNDEFINED_OBJECT),
             errmsg("cannot archive deletes from %s: \"%s\" is not a deleted_record setting", relation, setting->name),
             errdetail("It is set to \"%s\". %s", Shortened(setting->value), kWhy),
             suggestion != nullptr
                 ? errhint("Did you mean \"%s%s\"? RESET %s (and remove it from role, database or connection settings).",
                           kPrefix, suggestion, setting->name)
                 : errhint("RESET %s (and remove it from role, database or connection settings).", setting->name)));
  }
  if (require_context_checked != nullptr && !require_context_checked->honourable)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("cannot archive deletes from %s: invalid value for deleted_record.require_context: \"%s\"",
                           relation, Shortened(require_context_setting)),
                    errdetail("%s", kWhy), errhint("Available values: %s.", kRequiredContextValues)));
  if (metadata_checked != nullptr && !metadata_checked->honourable)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("cannot archive deletes from %s: deleted_record.metadata %s", relation,
                           metadata_checked->problem),
                    errdetail("It is set to \"%s\". %s", Shortened(metadata_setting), kWhy),
                    errhint("Set it to a JSON object, or RESET deleted_record.metadata.")));
}

}  // namespace

void DefineSettings() {
  defining_settings = true;
  DefineCustomStringVariable("deleted_record.actor",
                             "Who is deleting: stored in deleted_record.actor of each archived row.",
                             "Self-declared; the archive also records the real session and current user.",
                             &actor_setting, "", PGC_USERSET, 0, CheckContextText, AssignActorSetting, nullptr);
  DefineCustomStringVariable("deleted_record.reason", "Why rows are deleted: stored in deleted_record.reason.",
                             nullptr, &reason_setting, "", PGC_USERSET, 0, CheckContextText, AssignReasonSetting, nullptr);
  DefineCustomStringVariable("deleted_record.metadata",
                             "A JSON object stored in deleted_record.metadata of each archived row.",
                             "Checked with PostgreSQL's own jsonb parser when set.", &metadata_setting, "",
                             PGC_USERSET, 0, CheckMetadataSetting, AssignMetadataSetting, nullptr);
  DefineCustomStringVariable("deleted_record.require_context",
                             "Makes deletes from attached tables fail unless the actor and/or reason is set.",
                             "none, actor, reason or actor_and_reason.", &require_context_setting, "none",
                             PGC_USERSET, 0, CheckRequireContextSetting, AssignRequireContextSetting, nullptr);
  DefineCustomEnumVariable("deleted_record.partition_period",
                           "The span of each new partition of the archive: day, week or month (UTC).",
                           "Smaller periods keep each partition's indexes smaller on archives that grow fast.",
                           &partition_period_setting, 2, kPartitionPeriods, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineMisspeltSettings();
  // A parallel worker copies the leader's settings after loading the library; with the prefix
  // reserved, a misspelt one the leader holds would make the worker fail to start.
  if (!InitializingParallelWorker) MarkGUCPrefixReserved("deleted_record");
  defining_settings = false;
}

void RefuseUnhonourableSettings(const char* qualified_relation_name) { RefuseSettings(qualified_relation_name); }

ContextValues CurrentContextValues() {
  ContextValues values;
  values.actor = IsSet(actor_setting) ? actor_setting : nullptr;
  values.reason = IsSet(reason_setting) ? reason_setting : nullptr;
  values.metadata =
      metadata_checked == nullptr || metadata_checked->jsonb_size == 0 ? nullptr : CheckedJsonb(metadata_checked);
  values.required = require_context_checked != nullptr ? require_context_checked->required : RequiredContext::kNone;
  return values;
}

void ReadContextSettings(ContextSetting* settings) {
  // Values from role, database or server settings reach every node's sessions the same way;
  // anything later (connection options, SET, SET LOCAL, set_config) exists only here.
  auto in_session = [](const CheckedSetting* checked) {
    return checked != nullptr && checked->source > PGC_S_DATABASE_USER;
  };
  settings[0] = {"deleted_record.actor", actor_setting != nullptr ? actor_setting : "", in_session(actor_checked)};
  settings[1] = {"deleted_record.reason", reason_setting != nullptr ? reason_setting : "", in_session(reason_checked)};
  settings[2] = {"deleted_record.metadata", metadata_setting != nullptr ? metadata_setting : "",
                 in_session(metadata_checked)};
  settings[3] = {"deleted_record.require_context", require_context_setting != nullptr ? require_context_setting : "",
                 in_session(require_context_checked)};
}

void SetContextSettingsLocally(const char* actor, const char* reason, const char* metadata) {
  const char* const names[3] = {"deleted_record.actor", "deleted_record.reason", "deleted_record.metadata"};
  const char* const values[3] = {actor, reason, metadata};
  for (int i = 0; i < 3; ++i)
    (void) set_config_option(names[i], values[i], superuser() ? PGC_SUSET : PGC_USERSET, PGC_S_SESSION,
                             GUC_ACTION_LOCAL, true, 0, false);
}

}  // namespace deleted_record::glue
