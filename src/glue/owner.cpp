// The one helper for acting as the extension's owner, as PostgreSQL's own maintenance commands
// do (RestrictSearchPath() in 17, ri_triggers' switch of identity): switch the user with
// SECURITY_RESTRICTED_OPERATION, pin search_path inside a GUC nest level, restore everything
// on every path.
#include "glue/owner.hpp"

namespace deleted_record::glue {

namespace {

// The only schemas owner-side SQL may resolve names in: the caller can create objects in
// neither (pg_temp is never searched for functions and operators).
constexpr const char* kOwnerSearchPath = "pg_catalog, pg_temp";

}  // namespace

void AsExtensionOwner(Oid owner, OwnerWork work, void* argument, OwnerSearchPath search_path) {
  Oid saved_user;
  int saved_security_context;
  GetUserIdAndSecContext(&saved_user, &saved_security_context);
  SetUserIdAndSecContext(owner, saved_security_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
  // volatile: read in PG_FINALLY after a longjmp.
  volatile int nest_level = -1;
  volatile bool completed = false;
  PG_TRY();
  {
    if (search_path == OwnerSearchPath::kPinned) {
      nest_level = NewGUCNestLevel();
      // GUC_ACTION_SAVE: undone when the nest level ends, whatever the work does.
      set_config_option("search_path", kOwnerSearchPath, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    }
    work(argument);
    completed = true;
  }
  PG_FINALLY();
  {
    // As fmgr does around a function with a SET clause: the nest level ends as on commit when
    // the work completed, as on abort when it raised an error (which then goes on up).
    if (nest_level >= 0) AtEOXact_GUC(completed, nest_level);
    SetUserIdAndSecContext(saved_user, saved_security_context);
  }
  PG_END_TRY();
}

}  // namespace deleted_record::glue
