#!/usr/bin/env bash
# restore_update: the restore functions across ALTER EXTENSION UPDATE 1.1 -> 1.2. Their
# signatures change (masked; restore_transaction(xact text)), so the update drops and recreates
# them: privileges a DBA granted or revoked on the 1.1 functions must carry over (a revoked
# EXECUTE must not come back to PUBLIC). Before the update, the 1.1 functions keep working with
# the 1.2 library; after it, archive rows written under 1.1 (no xact_key) stay restorable.
set -uo pipefail
source "$(dirname "$0")/../lib/own_cluster.sh"

start_own_cluster restore_update
q -c "CREATE ROLE support_desk" >/dev/null
q <<'SQL' >/dev/null
CREATE EXTENSION deleted_record VERSION '1.1';
CREATE TABLE account (id int PRIMARY KEY, name text);
SELECT deleted_record_attach('account');
INSERT INTO account VALUES (1, 'one'), (2, 'two'), (3, 'three');
DELETE FROM account WHERE id = 1;
DELETE FROM account WHERE id = 2;
REVOKE EXECUTE ON FUNCTION deleted_record_restore(uuid[], text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION deleted_record_restore(uuid[], text, boolean) TO support_desk;
REVOKE EXECUTE ON FUNCTION deleted_record_restore_transaction(bigint, text, boolean) FROM PUBLIC;
SQL

check "1.1's restore runs on the 1.2 library" "1 restored" \
  "$(q -c "SELECT object_id || ' ' || outcome FROM deleted_record_restore(ARRAY(SELECT id FROM deleted_record WHERE object_id = '1'))")"

if q -c "ALTER EXTENSION deleted_record UPDATE TO '1.2'" >/dev/null 2>&1; then ok "ALTER EXTENSION UPDATE TO '1.2' succeeds"; else not_ok "ALTER EXTENSION UPDATE TO '1.2' succeeds"; fi

acl() { q -c "SELECT p.proacl::text FROM pg_proc p WHERE p.oid = to_regprocedure('$1')"; }
# public_may F: whether PUBLIC may execute function F (its ACL is the default, or grants PUBLIC).
public_may() {
  q -c "SELECT p.proacl IS NULL OR EXISTS (SELECT FROM aclexplode(p.proacl) a WHERE a.grantee = 0)
          FROM pg_proc p WHERE p.oid = to_regprocedure('$1')"
}
check "support_desk keeps EXECUTE on deleted_record_restore" "t" \
  "$(q -c "SELECT has_function_privilege('support_desk', 'deleted_record_restore(uuid[],text,boolean,text)', 'EXECUTE')")"
check "PUBLIC stays revoked on deleted_record_restore" "f" "$(public_may 'deleted_record_restore(uuid[],text,boolean,text)')"
check "PUBLIC stays revoked on restore_transaction(bigint), and the new text overload follows it" "f f" \
  "$(public_may 'deleted_record_restore_transaction(bigint,text,boolean,text)') $(public_may 'deleted_record_restore_transaction(text,text,boolean,text)')"
check "functions without changed privileges keep the default" "" "$(acl 'deleted_record_restore_transaction(xid8,text,boolean,text)')"
check "no 1.1 restore function is left" "0" \
  "$(q -c "SELECT count(*) FROM pg_proc WHERE proname LIKE 'deleted_record%restore%' AND pronargs = 3")"
check "a 1.1 archive row (no xact_key) restores by its xact_id as text" "2 restored" \
  "$(q -c "SELECT object_id || ' ' || outcome FROM deleted_record_restore_transaction(
             (SELECT xact_id::text FROM deleted_record WHERE object_id = '2'))")"
q -c "DELETE FROM account WHERE id = 3" >/dev/null
check "a 1.2 archive row has an xact_key and restores by it" "3 restored" \
  "$(q -c "SELECT object_id || ' ' || outcome FROM deleted_record_restore_transaction(
             (SELECT xact_key FROM deleted_record WHERE object_id = '3' AND xact_key IS NOT NULL))")"
tap_done
