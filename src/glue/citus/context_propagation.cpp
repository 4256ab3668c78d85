// Sending the deletion context to the workers of a distributed transaction.
#include "glue/citus/context_propagation.hpp"

#include "glue/citus/catalog.hpp"
#include "glue/settings.hpp"

namespace deleted_record::glue {

namespace {

// What this transaction sent to the workers, per setting, and in which subtransaction: a
// subtransaction's rollback undoes its SET LOCAL here and on the workers alike.
struct SentSetting {
  bool sent;
  char* value;  // in TopTransactionContext
  SubTransactionId sent_in;
};
SentSetting sent_settings[kContextSettingCount + 1];  // the context settings, then the login role

bool NeedsSending(const ContextSetting& now, const SentSetting& sent) {
  if (sent.sent) return strcmp(now.value, sent.value) != 0;
  return now.set_in_session && now.value[0] != '\0';
}

// SendSettings runs SET LOCAL for the chosen settings through SPI, with Citus told to
// propagate SET LOCAL for the duration: Citus sends it to the transaction's open worker
// connections at once and replays it on those it opens later.
void SendSettings(const ContextSetting* settings, const bool* chosen) {
  // Copy the values first: SET LOCAL replaces the strings settings[] points to.
  char* values[kContextSettingCount + 1] = {};
  for (int i = 0; i <= kContextSettingCount; ++i)
    if (chosen[i]) values[i] = MemoryContextStrdup(TopTransactionContext, settings[i].value);
  int nest_level = NewGUCNestLevel();
  (void) set_config_option("citus.propagate_set_commands", "local", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
                           0, false);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "deleted_record: SPI_connect failed");
  for (int i = 0; i <= kContextSettingCount; ++i) {
    if (!chosen[i]) continue;
    char* command = psprintf("SET LOCAL %s = %s", settings[i].name, quote_literal_cstr(values[i]));
    if (SPI_execute(command, false, 0) != SPI_OK_UTILITY) elog(ERROR, "deleted_record: %s failed", command);
  }
  SPI_finish();
  AtEOXact_GUC(true, nest_level);
  for (int i = 0; i <= kContextSettingCount; ++i)
    if (chosen[i]) sent_settings[i] = {true, values[i], GetCurrentSubTransactionId()};
}

}  // namespace

void ForgetSentSettings() {
  for (auto& sent : sent_settings) sent = {false, nullptr, InvalidSubTransactionId};
}

// ForgetSentSince forgets what was sent in a rolled-back subtransaction: subtransaction ids only
// grow, so everything sent since it began has an id at least its own.
void ForgetSentSince(SubTransactionId subtransaction) {
  for (auto& sent : sent_settings)
    if (sent.sent && sent.sent_in >= subtransaction) sent = {false, nullptr, InvalidSubTransactionId};
}

bool PropagateContextSettings(bool force) {
  ContextSetting settings[kContextSettingCount + 1];
  ReadContextSettings(settings);
  // Under SET ROLE, Citus connects to the other nodes as the role set: their sessions would have
  // that role's ALTER ROLE defaults and record it as the session user. This node's values of
  // every context setting go (empty ones too), and the login role, which the archive on those
  // nodes records as session_user_name.
  bool other_role = GetSessionUserId() != GetUserId();
  settings[kContextSettingCount] = {kLoginRoleSetting, GetUserNameFromId(GetSessionUserId(), false), other_role};
  bool chosen[kContextSettingCount + 1];
  bool any = false;
  for (int i = 0; i <= kContextSettingCount; ++i) {
    // deleted_record_set_context sets actor, reason and metadata: those always go.
    chosen[i] = (force && i < 3) || NeedsSending(settings[i], sent_settings[i]) ||
                (other_role && !sent_settings[i].sent);
    any = any || chosen[i];
  }
  if (!any) return true;
  // Citus propagates SET LOCAL only inside transaction blocks (and functions and DO blocks,
  // from where deleted_record_set_context is called; the executor hook cannot tell those).
  if (!force && !IsTransactionBlock()) return false;
  SendSettings(settings, chosen);
  return true;
}

const char* CitusLoginRole() {
  if (!IsCitusInternalBackend()) return nullptr;
  const char* login = GetConfigOption(kLoginRoleSetting, true, false);
  if (login == nullptr || login[0] == '\0') return nullptr;
  Oid role = get_role_oid(login, true);
  if (!OidIsValid(role) || (role != GetSessionUserId() && !is_member_of_role(role, GetSessionUserId()))) return nullptr;
  // A superuser is a member of every role: a claim of one is taken only from a session that is
  // itself a superuser's (found by review: any role could have its deletes recorded as the
  // superuser's).
  if (role != GetSessionUserId() && superuser_arg(role) && !superuser_arg(GetSessionUserId())) return nullptr;
  return login;
}

}  // namespace deleted_record::glue
