// Sending the deletion context to the workers of a distributed transaction.
#include "glue/citus/context_propagation.hpp"

#include "glue/citus/catalog.hpp"
#include "glue/settings.hpp"
#include "glue/spi_connection.hpp"

namespace deleted_record::glue {

namespace {

// What this transaction sent to the workers, per setting, and in which subtransaction: a
// subtransaction's rollback undoes its SET LOCAL here and on the workers alike.
struct SentSetting {
  bool sent;
  char* value;  // in TopTransactionContext
  SubTransactionId sent_in;
};
SentSetting sent_settings[kContextSettingCount];

bool NeedsSending(const ContextSetting& now, const SentSetting& sent) {
  if (sent.sent) return strcmp(now.value, sent.value) != 0;
  return now.set_in_session && now.value[0] != '\0';
}

// SendSettings runs SET LOCAL for the chosen settings through SPI, with Citus told to
// propagate SET LOCAL for the duration: Citus sends it to the transaction's open worker
// connections at once and replays it on those it opens later.
void SendSettings(const ContextSetting* settings, const bool* chosen) {
  // Copy the values first: SET LOCAL replaces the strings settings[] points to.
  char* values[kContextSettingCount] = {};
  for (int i = 0; i < kContextSettingCount; ++i)
    if (chosen[i]) values[i] = MemoryContextStrdup(TopTransactionContext, settings[i].value);
  int nest_level = NewGUCNestLevel();
  (void) set_config_option("citus.propagate_set_commands", "local", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
                           0, false);
  ConnectSpi();
  for (int i = 0; i < kContextSettingCount; ++i) {
    if (!chosen[i]) continue;
    char* command = psprintf("SET LOCAL %s = %s", settings[i].name, quote_literal_cstr(values[i]));
    if (SPI_execute(command, false, 0) != SPI_OK_UTILITY) elog(ERROR, "deleted_record: %s failed", command);
  }
  FinishSpi();
  AtEOXact_GUC(true, nest_level);
  for (int i = 0; i < kContextSettingCount; ++i)
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
  ContextSetting settings[kContextSettingCount];
  ReadContextSettings(settings);
  bool chosen[kContextSettingCount];
  bool any = false;
  for (int i = 0; i < kContextSettingCount; ++i) {
    // deleted_record_set_context sets actor, reason and metadata: those always go.
    chosen[i] = (force && i < 3) || NeedsSending(settings[i], sent_settings[i]);
    any = any || chosen[i];
  }
  if (!any) return true;
  // Citus propagates SET LOCAL only inside transaction blocks (and functions and DO blocks,
  // from where deleted_record_set_context is called; the executor hook cannot tell those).
  if (!force && !IsTransactionBlock()) return false;
  SendSettings(settings, chosen);
  return true;
}

// A node cannot verify a login role another session claims: Citus marks its own connections
// only by application_name, which any client can set, and any role may call Citus's
// assign_distributed_transaction_id, so neither "Citus's connection" nor "the distributed
// transaction's initiator" can be proven here. No node records a claimed login role; a node
// where archived rows would record another role refuses instead (CheckLoginRoleReachesNodes).
void CheckLoginRoleReachesNodes(const char* what) {
  Oid login = GetSessionUserId();
  Oid current = GetUserId();
  if (login == current) return;
  ereport(ERROR,
          (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
           errmsg("deleted_record: %s would be archived on other Citus nodes as done by role \"%s\", not by the login "
                  "role \"%s\"",
                  what, GetUserNameFromId(current, false), GetUserNameFromId(login, false)),
           errdetail("Under SET ROLE or in SECURITY DEFINER code Citus connects to the other nodes as the current role, "
                     "and a node cannot verify a login role sent to it, so it records the role it was connected as."),
           errhint("Run the statement as the login role (RESET ROLE, or outside SECURITY DEFINER code), or log in as "
                   "role \"%s\".",
                   GetUserNameFromId(current, false))));
}

const char* CitusLoginRole() {
  const char* claimed = GetConfigOption(kLoginRoleSetting, true, false);
  if (claimed == nullptr || claimed[0] == '\0') return nullptr;
  const char* login = GetUserNameFromId(GetSessionUserId(), false);
  if (strcmp(claimed, login) == 0) return nullptr;
  // Never recorded: whoever sets it (any client, or Citus on behalf of a user who set it with
  // citus.propagate_set_commands) could claim any role (found by review).
  ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                  errmsg("deleted_record: cannot archive rows as deleted by role \"%s\": this session's login role is "
                         "\"%s\"",
                         claimed, login),
                  errdetail("%s carries a login role claimed by another session, which this node cannot verify; "
                            "deleted_record 1.2 never sends it.",
                            kLoginRoleSetting),
                  errhint("RESET %s.", kLoginRoleSetting)));
  return nullptr;
}

}  // namespace deleted_record::glue
