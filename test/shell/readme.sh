#!/usr/bin/env bash
# readme: README.md as a newcomer runs it. Every ```sql block of the README runs, in the README's
# order, as written, in one fresh database of a cluster of its own (psql -X, ON_ERROR_STOP, each
# block as one psql script, as the superuser who created the extension), and must succeed; after
# the blocks that change state, the state they promise is checked (after the headline undo the
# customer and its invoices are back, ...). A block that cannot run on one server is marked in the
# README by the line "<!-- not run here: REASON -->" right above it; those are counted and named,
# nothing is left out silently. Then the grants of *Security* are checked to be enough for the
# examples they enable (the erasure example run verbatim as privacy_officer, the purge as janitor,
# a masked lookup as auditor); every signature of the *SQL API* table is checked against the
# installed extension (modes, names, types, defaults), and every function that is not internal
# must be in it; and the README's claim about session_preload_libraries is checked against what
# PostgreSQL does.
set -uo pipefail
source "$(dirname "$0")/../lib/own_cluster.sh"

README=$REPO_ROOT/README.md
start_own_cluster readme
blocks=$tmp/blocks
mkdir -p "$blocks"

# Extract the ```sql blocks: $blocks/N.sql, and one index line per block:
# N <TAB> README line of the opening fence <TAB> heading it is under <TAB> ordinal under that heading <TAB> not-run reason (or empty).
python3 - "$README" "$blocks" >"$blocks/index" <<'PY' || die "could not read the README's blocks"
import re, sys, textwrap
readme, out = sys.argv[1], sys.argv[2]
lines = open(readme, encoding="utf-8").read().splitlines()
fence = re.compile(r"^(\s*)```\s*(\S*)")
heading, ordinal, n, i = "", {}, 0, 0
while i < len(lines):
    line = lines[i]
    m = re.match(r"^#+\s+(.*)$", line)
    if m:
        heading = m.group(1).strip()
    f = fence.match(line)
    if f:
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```"))
        info = f.group(2)
        if info == "sql":
            n += 1
            ordinal[heading] = ordinal.get(heading, 0) + 1
            mark = re.match(r"^\s*<!-- not run here: (.+?) -->$", lines[i - 1]) if i > 0 else None
            with open(f"{out}/{n}.sql", "w", encoding="utf-8") as g:
                g.write(textwrap.dedent("\n".join(lines[i + 1:end])) + "\n")
            print(f"{n}\t{i + 1}\t{heading}\t{ordinal[heading]}\t{mark.group(1) if mark else ''}")
        elif "sql" in info.lower():
            print(f"odd\t{i + 1}\t\t\t{line.strip()}")   # ```SQL, ```psql...: not run, so named
        i = end + 1
        continue
    if re.match(r"^\s*<!-- not run here:", line) and not (i + 1 < len(lines) and lines[i + 1].strip() == "```sql"):
        print(f"orphan\t{i + 1}\t\t\t{line}")
    i += 1
PY

total=$(grep -c '^[0-9]' "$blocks/index")
marked=$(awk -F'\t' '$1 ~ /^[0-9]+$/ && $5 != ""' "$blocks/index" | wc -l)
check "every \"<!-- not run here: … -->\" marker of the README stands right above a \`\`\`sql block" "" \
  "$(awk -F'\t' '$1 == "orphan" {print "line " $2}' "$blocks/index" | paste -sd' ')"
check "every SQL code block of the README is fenced \`\`\`sql (others would not run here)" "" \
  "$(awk -F'\t' '$1 == "odd" {print "line " $2 ": " $5}' "$blocks/index" | paste -sd' ')"
echo "# the README has $total sql blocks: $((total - marked)) run here, $marked marked not run:"
awk -F'\t' '$1 ~ /^[0-9]+$/ && $5 != "" {print "#   line " $2 " (" $3 "): " $5}' "$blocks/index"
if [ "$total" -ge 8 ] && [ "$marked" -le 3 ]; then
  ok "the README's sql blocks were found ($total) and at most 3 are marked not run ($marked: Citus and pg_cron)"
else
  not_ok "the README's sql blocks were found ($total) and at most 3 are marked not run ($marked)"
fi

createdb app || die "createdb failed"
# run_block N: runs block N as a newcomer pastes it; its output goes to $blocks/N.out.
run_block() {
  psql -X -v ON_ERROR_STOP=1 -d app -f "$blocks/$1.sql" >"$blocks/$1.out" 2>&1
}
# state SQL: one value from the example database.
state() { q app -c "$1" 2>&1; }
# has N TEXT DESCRIPTION: block N's output contains TEXT.
has() {
  if grep -qF -- "$2" "$blocks/$1.out"; then ok "$3"; else not_ok "$3"; sed 's/^/#   /' "$blocks/$1.out" | head -40; fi
}

# after_block HEADING ORDINAL N: what the block promises, checked right after it ran.
after_block() {
  case "$1#$2" in
    "Using it#1")
      has "$3" 'hmac:' "Using it: the archived customer row is shown, email masked (hmac:…)"
      check "Using it: after the undo the customer is back (email NULL: it was masked; password_hash NULL: excluded) with both invoices" \
        "42|Alice||+41 79 555 01 02||tok_4711|42 43" \
        "$(state "SELECT c.id || '|' || c.name || '|' || coalesce(c.email, '') || '|' || c.phone || '|' || coalesce(c.password_hash, '') || '|'
                         || c.card_token || '|' || (SELECT string_agg(id::text, ' ' ORDER BY id) FROM invoice WHERE customer_id = 42)
                    FROM customer c WHERE id = 42")"
      check "Using it: the delete archived 3 rows in one transaction, with the context, all now marked restored; password_hash not archived" \
        "3|1|support:alice|GDPR erasure #4711|4711|3|0" \
        "$(state "SELECT count(*) || '|' || count(DISTINCT xact_key) || '|' || min(actor) || '|' || min(reason) || '|' || min(metadata->>'ticket')
                         || '|' || count(restored_at) || '|' || count(*) FILTER (WHERE data ? 'password_hash') FROM deleted_record")" ;;
    "Reading it back and undelete#1")
      has "$3" '99.50' "Reading it back: the typed read shows the invoice's amount (99.50)" ;;
    "Reading it back and undelete#2")
      has "$3" 'would restore' "Restore: the dry run reports 'would restore'"
      check "Restore: invoice 42 alone came back, then the customer and both invoices by transaction (dry run first, then for real)" \
        "42 43|0" \
        "$(state "SELECT (SELECT string_agg(id::text, ' ' ORDER BY id) FROM invoice WHERE customer_id = 42
                            AND EXISTS (SELECT FROM customer WHERE id = 42)) || '|' ||
                         (SELECT count(*) FROM deleted_record WHERE restored_at IS NULL)")" ;;
    "Retention and purge#1")
      check "Retention: the retentions are set (invoice 7 years, session_log 30 days)" "invoice 7 years,session_log 30 days" \
        "$(state "SELECT string_agg(table_name::text || ' ' || retention, ',' ORDER BY table_name::text)
                    FROM deleted_record_attached WHERE retention IS NOT NULL AND table_name::text <> 'customer'")" ;;
    "Keeping columns out: exclusion and masking#1")
      check "Masking: customer excludes {password_hash,card_token} and masks {email,phone}" "{password_hash,card_token}|{email,phone}" \
        "$(state "SELECT exclude_columns::text || '|' || mask_columns::text FROM deleted_record_attached WHERE table_name = 'customer'::regclass")" ;;
    "Erasure of a data subject#1")
      check "Erasure: every archive row of customer 42, of its invoices and with its masked email is gone, a tombstone for each" \
        "0|true" \
        "$(state "SELECT (SELECT count(*) FROM deleted_record WHERE object_id = '42' OR data->>'customer_id' = '42') || '|' ||
                         ((SELECT count(*) FROM deleted_record_erasure) = $(grep -oE '^ +[0-9]+$' "$blocks/$3.out" | tr -d ' ' | head -1 || echo -1)
                          AND (SELECT count(*) FROM deleted_record_erasure) > 0)")" ;;
    "Security#1")
      check "Security: the three roles exist" "auditor janitor privacy_officer" \
        "$(state "SELECT string_agg(rolname, ' ' ORDER BY rolname) FROM pg_roles WHERE rolname IN ('janitor', 'privacy_officer', 'auditor')")" ;;
  esac
}

ran=0
while IFS=$'\t' read -r n line heading ordinal reason; do
  [[ "$n" =~ ^[0-9]+$ ]] || continue
  [ -z "$reason" ] || continue
  if run_block "$n"; then
    ok "README line $line ($heading, block $ordinal) runs as written"
    ran=$((ran + 1))
    after_block "$heading" "$ordinal" "$n"
  else
    not_ok "README line $line ($heading, block $ordinal) runs as written"
    sed 's/^/#   /' "$blocks/$n.out" | tail -20
  fi
done <"$blocks/index"
check "every block not marked 'not run here' ran" "$((total - marked))" "$ran"

# --- The grants of *Security* are enough for what they are for, and the erasure example needs all
# of privacy_officer's (the 1.1 README granted only EXECUTE on deleted_record_erase).
erase_block=$(awk -F'\t' '$3 == "Erasure of a data subject" && $4 == 1 {print $1}' "$blocks/index")
if [ -z "$erase_block" ]; then
  not_ok "the erasure example is in the README"
else
  q app >/dev/null <<'SQL' || die "setup for the grant checks failed"
BEGIN;
SELECT deleted_record_set_context('support:bob', 'account closed');
DELETE FROM customer WHERE id = 42;
COMMIT;
CREATE ROLE erase_only;
GRANT EXECUTE ON FUNCTION deleted_record_erase(uuid[], text) TO erase_only;
SQL
  out=$( { echo "SET ROLE erase_only;"; cat "$blocks/$erase_block.sql"; } | psql -X -v ON_ERROR_STOP=1 -d app 2>&1)
  if [[ "$out" == *"permission denied"* ]]; then
    ok "the erasure example fails for a role granted only EXECUTE on deleted_record_erase (permission denied)"
  else
    not_ok "the erasure example fails for a role granted only EXECUTE on deleted_record_erase (permission denied)"; echo "#   got: $out"
  fi
  out=$( { echo "SET ROLE privacy_officer;"; cat "$blocks/$erase_block.sql"; } | psql -X -v ON_ERROR_STOP=1 -qAt -d app 2>&1)
  check "the erasure example, run verbatim as privacy_officer (the README's grants only), erases the customer and both invoices" "3" "$out"
fi
check "CALL deleted_record_purge() as janitor (the README's grants only) succeeds" "0" \
  "$(printf 'SET ROLE janitor;\nCALL deleted_record_purge();\n' | psql -X -v ON_ERROR_STOP=1 -qAt -d app 2>&1 | grep -v '^NOTICE:  deleted_record_purge: removed')"
check "a masked lookup as auditor (the README's grants only) succeeds" "0" \
  "$(printf "SET ROLE auditor;\nSELECT count(*) FROM deleted_record WHERE data->>'email' = deleted_record_mask('alice@example.com');\n" |
     psql -X -v ON_ERROR_STOP=1 -qAt -d app 2>&1)"

# --- *Granting read access*: the view and the row-level security rows, their statements as the
# README writes them, expose what they say (billing is the README's role; an invoice of another
# customer is deleted first, so that the archive holds rows of several tables).
read_row() {  # read_row PREFIX: the code spans of the README's table row that starts with PREFIX, as statements
  python3 - "$README" "$1" <<'PY'
import re, sys
row = next(l for l in open(sys.argv[1], encoding="utf-8") if l.startswith(sys.argv[2]))
print("\n".join(re.findall(r"`([^`]*)`", row.split(" | ")[0])))
PY
}
q app >/dev/null <<'SQL' || die "setup for the read-access checks failed"
CREATE ROLE billing;
INSERT INTO customer (id, name) VALUES (7, 'Bob');
INSERT INTO invoice VALUES (70, 7, 5.00);
BEGIN;
SELECT deleted_record_set_context('billing:carol', 'duplicate invoice');
DELETE FROM invoice WHERE id = 70;
DELETE FROM customer WHERE id = 7;
COMMIT;
SQL
view_sql=$(read_row "| A view per table:")
if q app <<<"$view_sql" >/dev/null; then
  ok "Granting read access: the view row's statements run as written"
else
  not_ok "Granting read access: the view row's statements run as written"; sed 's/^/#   /' <<<"$view_sql"
fi
check "... billing reads that table's archive rows through the view, and nothing of the archive itself" \
  "1|70|ERROR:  permission denied for table deleted_record" \
  "$(printf 'SET ROLE billing;\nSELECT count(*) || %s || min(data->>%s) FROM deleted_invoice;\nSELECT count(*) FROM deleted_record;\n' "'|'" "'id'" |
     psql -X -qAt -d app 2>&1 | paste -sd'|')"
rls_sql=$(read_row "| Row-level security:")
if q app <<<"$rls_sql" >/dev/null; then
  ok "Granting read access: the row-level security row's statements run as written"
else
  not_ok "Granting read access: the row-level security row's statements run as written"; sed 's/^/#   /' <<<"$rls_sql"
fi
check "... billing reads only invoice rows of the archive (the customer's row is there too)" "1|1|1" \
  "$(q app -c "SELECT count(*) FILTER (WHERE table_name = 'customer' AND object_id = '7') FROM deleted_record")|$(
     printf "SET ROLE billing;\nSELECT count(*) || '|' || count(*) FILTER (WHERE table_name = 'invoice') FROM deleted_record;\n" |
     psql -X -qAt -d app 2>&1)"
check "... and, as the README says, a reader without a policy (auditor) then reads no rows" "0" \
  "$(printf "SET ROLE auditor;\nSELECT count(*) FROM deleted_record;\n" | psql -X -qAt -d app 2>&1)"

# --- *SQL API*: every signature the table shows is a function or procedure of the installed
# extension with those argument modes, names, types and defaults; every function that is not
# internal (its comment says "Internal", or it is a trigger function) is in the table.
q app -c "SELECT p.proname || '|' || pg_get_function_arguments(p.oid) || '|' ||
                 (coalesce(obj_description(p.oid, 'pg_proc'), '') LIKE 'Internal%'
                  OR p.prorettype IN ('trigger'::regtype, 'event_trigger'::regtype))
            FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
            JOIN pg_extension e ON e.oid = d.refobjid WHERE e.extname = 'deleted_record' ORDER BY 1" >"$tmp/functions" \
  || die "could not list the extension's functions"
api_problems=$(python3 - "$README" "$tmp/functions" 2>&1 <<'PY'
import re, sys
readme, functions = sys.argv[1], sys.argv[2]
TYPES = {"timestamp with time zone": "timestamptz", "character varying": "varchar"}

def split_args(text):
    args, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "(["
        depth -= ch in ")]"
        if ch == "," and depth == 0:
            args.append(cur.strip()); cur = ""
        else:
            cur += ch
    if cur.strip():
        args.append(cur.strip())
    return args

def parse(text, all_default=False):
    out = []
    for a in split_args(text):
        a, _, default = a.partition(" DEFAULT ")
        default = re.sub(r"::[\w .\[\]]+$", "", default.strip()) or ("NULL" if all_default else None)
        words = a.split()
        mode = words.pop(0) if words[0] in ("IN", "OUT", "INOUT", "VARIADIC") else "IN"
        name, typ = (None, " ".join(words)) if len(words) == 1 or " ".join(words) in TYPES else (words[0], " ".join(words[1:]))
        out.append((mode, name, TYPES.get(typ, typ), default))
    return out

installed, public = {}, set()
for line in open(functions, encoding="utf-8").read().splitlines():
    name, rest = line.split("|", 1)
    args, internal = rest.rsplit("|", 1)
    installed.setdefault(name, []).append(parse(args))
    if internal != "true":
        public.add(name)

lines = open(readme, encoding="utf-8").read().splitlines()
start = lines.index("### SQL API")
end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("#"))
documented, problems = set(), []
for row in lines[start:end]:
    if not row.startswith("| `"):
        continue
    first = re.split(r"(?<!\\) \| ", row[2:], maxsplit=1)[0]
    all_default = "all `DEFAULT NULL`" in first
    for span in re.findall(r"`([^`]*)`", first):
        m = re.match(r"^(?:CALL )?(deleted_record_\w+)\((.*)\)$", span.replace("\\|", "|"))
        if not m:
            documented.add(span)
            continue
        name, args = m.groups()
        documented.add(name)
        want = parse(args, all_default)
        def same(have):
            return len(have) == len(want) and all(
                h[0] == w[0] and h[2] == w[2] and (w[1] is None or h[1] == w[1]) and (w[1] is None or h[3] == w[3])
                for h, w in zip(have, want))
        if not any(same(have) for have in installed.get(name, [])):
            problems.append(f"{span}: installed as " + (" / ".join(
                "(" + ", ".join(" ".join(x for x in (h[0] if h[0] != "IN" else "", h[1] or "", h[2], f"DEFAULT {h[3]}" if h[3] else "") if x) for h in have) + ")"
                for have in installed.get(name, [])) or "nothing"))
for name in sorted(public - documented):
    problems.append(f"{name} is not internal but not in the SQL API table")
print("\n".join(problems))
PY
) || api_problems="the check itself failed: $api_problems"
check "every signature of the README's SQL API table is installed as shown, and every function that is not internal is in it" "" "$api_problems"

# --- *The archive table*: the columns it lists are the archive's columns, in its order, with
# those types.
check "the README's archive table lists the archive's columns, in order, with their types" \
  "$(q app -c "SELECT string_agg(attname || ' ' || replace(format_type(atttypid, atttypmod), 'timestamp with time zone', 'timestamptz'),
                                 ', ' ORDER BY attnum)
                 FROM pg_attribute WHERE attrelid = 'deleted_record'::regclass AND attnum > 0 AND NOT attisdropped")" \
  "$(python3 - "$README" 2>&1 <<'PY'
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
start = lines.index("### The archive table")
out = []
for row in lines[start + 1:]:
    if row.startswith("#") or (out and not row.startswith("|")):
        break
    if not row.startswith("| `"):
        continue
    cells = row.split(" | ")
    names = re.findall(r"`([^`]*)`", cells[0])
    types = re.findall(r"`([^`]*)`", cells[1])
    types = types * len(names) if len(types) == 1 else types
    out += [f"{n} {t}" for n, t in zip(names, types)]
print(", ".join(out))
PY
)"

# --- *Settings*: what session_preload_libraries checks. With the library preloaded, SET is checked
# from the first statement and ALTER ROLE ... SET when made; values given as connection options
# (PGOPTIONS, options in the connection string) are applied before the library loads: the
# connection succeeds without error or warning, and deletes from attached tables fail.
createdb preload || die "createdb preload failed"
q preload >/dev/null <<'SQL' || die "preload setup failed"
CREATE EXTENSION deleted_record;
CREATE TABLE t (id int PRIMARY KEY);
SELECT deleted_record_attach('t');
INSERT INTO t SELECT generate_series(1, 10);
ALTER DATABASE preload SET session_preload_libraries = 'deleted_record';
CREATE ROLE preload_role LOGIN SUPERUSER;
SQL
grep -qF "session_preload_libraries = 'deleted_record'" "$README" && grep -qF 'It does not check values given at connection time' "$README" \
  && ok "the README says what preloading checks and that it does not check connection options" \
  || not_ok "the README says what preloading checks and that it does not check connection options"
check "preloaded: the library is loaded before the session's first statement" "t" \
  "$(q preload -c "SELECT pg_read_file('/proc/self/maps') LIKE '%deleted_record.so%'")"
out=$(psql -X -v ON_ERROR_STOP=1 -d preload -c "SET deleted_record.metadata = 'not json'" 2>&1)
[[ "$out" == *'invalid value for parameter "deleted_record.metadata"'* ]] \
  && ok "preloaded: a bad SET is refused at its first statement" || { not_ok "preloaded: a bad SET is refused at its first statement"; echo "#   got: $out"; }
out=$(psql -X -v ON_ERROR_STOP=1 -d preload -c "ALTER ROLE preload_role SET deleted_record.require_context = 'actr'" 2>&1)
[[ "$out" == *'invalid value for parameter "deleted_record.require_context"'* ]] \
  && ok "preloaded: ALTER ROLE ... SET of a bad value is refused" || { not_ok "preloaded: ALTER ROLE ... SET of a bad value is refused"; echo "#   got: $out"; }
for how in PGOPTIONS conninfo; do
  if [ "$how" = PGOPTIONS ]; then
    out=$(PGOPTIONS="-c deleted_record.metadata=notjson" psql -X -v ON_ERROR_STOP=1 -d preload -c "SELECT 'connected'" 2>&1)
    del=$(PGOPTIONS="-c deleted_record.metadata=notjson" psql -X -v ON_ERROR_STOP=1 -d preload -c "DELETE FROM t WHERE id = 1" 2>&1)
  else
    out=$(psql -X -v ON_ERROR_STOP=1 "dbname=preload options='-c deleted_record.metadata=notjson'" -c "SELECT 'connected'" 2>&1)
    del=$(psql -X -v ON_ERROR_STOP=1 "dbname=preload options='-c deleted_record.metadata=notjson'" -c "DELETE FROM t WHERE id = 1" 2>&1)
  fi
  check "preloaded, bad metadata as a connection option ($how): the connection succeeds without error or warning" \
    "connected" "$(grep -E 'connected|ERROR|WARNING|FATAL' <<<"$out" | sed 's/^ *//' | paste -sd' ')"
  [[ "$del" == *'cannot archive deletes from public.t: deleted_record.metadata is not valid JSON'* ]] \
    && ok "preloaded, bad metadata as a connection option ($how): the delete fails naming the setting" \
    || { not_ok "preloaded, bad metadata as a connection option ($how): the delete fails naming the setting"; echo "#   got: $del"; }
done
check "preloaded: the row the failed deletes targeted is still there, nothing archived" "1|0" \
  "$(q preload -c "SELECT count(*) || '|' || (SELECT count(*) FROM deleted_record) FROM t WHERE id = 1")"

# --- *Settings*: the table lists exactly the settings the library defines.
check "the README's settings table lists exactly the library's settings" \
  "$(q preload -c "SELECT string_agg(name, ' ' ORDER BY name) FROM pg_settings WHERE name LIKE 'deleted_record.%'")" \
  "$(awk '/^### Settings/ {f = 1; next} f && /^#/ {f = 0} f && /^\| `deleted_record\./' "$README" |
     sed -E 's/^\| `([^`]*)`.*/\1/' | LC_ALL=C sort | paste -sd' ')"

tap_done
