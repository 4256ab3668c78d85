#!/usr/bin/env bash
# The C++/PostgreSQL door, checked in the source (no server): the glue reaches the core only
# through src/core/boundary.hpp, whose functions are all noexcept, and holds no C++ standard-library
# object (one that an ereport's longjmp could skip the destructor of) anywhere; the core includes no
# PostgreSQL header. A rule broken here is a crash or a leak waiting for the first error.
source "$(dirname "$0")/../lib/tap.sh"
REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO_ROOT" || exit 1

# 1. Glue files include no core header but the door.
bad=$(grep -n '#include "core/' src/glue/*.?pp src/glue/*/*.?pp | grep -v '#include "core/boundary.hpp"')
check "the glue includes no core header but core/boundary.hpp" "" "$bad"

# 2. Glue files name no standard-library type that owns memory or resources.
bad=$(grep -nE 'std::(string|wstring|vector|map|multimap|unordered_map|unordered_set|set|multiset|list|deque|array|unique_ptr|shared_ptr|weak_ptr|optional|function|pair|tuple|variant|any|[io]?stringstream|ostream|istream|regex|thread|mutex|lock_guard|unique_lock)\b' src/glue/*.?pp src/glue/*/*.?pp)
check "the glue holds no std:: object (string, vector, smart pointer, ...) that a longjmp could skip" "" "$bad"
bad=$(grep -nE '^\s*#include <(string|vector|map|unordered_map|set|list|deque|memory|optional|functional|sstream|regex|thread|mutex)>' src/glue/*.?pp src/glue/*/*.?pp)
check "the glue includes no standard-library container or resource header" "" "$bad"

# 3. Every function the door declares is noexcept.
bad=$(python3 - src/core/boundary.hpp <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r'//[^\n]*', '', text)
bad = []
for statement in re.split(r';', text):
    s = ' '.join(statement.split())
    if '(' not in s or s.startswith(('struct', 'enum', 'using', 'typedef', '#')) or '{' in s:
        s = s.split('{')[-1].strip() if '{' in s else s
        if '(' not in s or s.startswith(('struct', 'enum', 'using', 'typedef')):
            continue
    if re.search(r'\)\s*(const\s*)?noexcept\s*$', s) is None:
        bad.append(s[:120])
print('\n'.join(bad))
PY
)
check "every function of src/core/boundary.hpp is noexcept" "" "$bad"

# The door shows the glue plain values only: it includes no core header whose functions throw
# (only core/choices.hpp, plain enums and names) and no standard-library header but <cstddef>
# and <cstdint>.
bad=$(grep -E '^\s*#include' src/core/boundary.hpp | grep -vE '#include ("core/no_postgres.hpp"|"core/choices.hpp"|<cstddef>|<cstdint>)')
check "src/core/boundary.hpp includes only plain headers (core/choices.hpp, <cstddef>, <cstdint>)" "" "$bad"
bad=$(grep -nE '\)\s*;|#include <' src/core/choices.hpp)
check "src/core/choices.hpp declares no function and includes no standard-library header" "" "$bad"

# 4. The core includes no PostgreSQL header (no_postgres.hpp also stops such a build).
bad=$(grep -nE '#include [<"](postgres|fmgr|executor/|utils/|catalog/|access/|nodes/|commands/)' src/core/*)
check "the core includes no PostgreSQL header" "" "$bad"
bad=$(grep -L '#include "core/no_postgres.hpp"' src/core/*.hpp | grep -v no_postgres.hpp)
check "every core header includes core/no_postgres.hpp (the compile-time check)" "" "$bad"

# 5. Every C callback handed to PostgreSQL is extern "C" (hooks, cache and transaction callbacks).
bad=$(grep -nE '(Register(Xact|SubXact)Callback|CacheRegister(Relcache|Syscache)Callback)\(' src/glue/*.cpp src/glue/*/*.cpp | while IFS=: read -r file line text; do
  fn=$(sed -nE -e 's/.*SyscacheCallback\([A-Z_]+, *([A-Za-z_]+).*/\1/p' -e 't' -e 's/.*Callback\(([A-Za-z_]+).*/\1/p' <<<"$text")
  [ -n "$fn" ] && ! grep -qE "extern \"C\" [^(]*\b$fn\(" src/glue/*.cpp src/glue/*/*.cpp && echo "$file:$line $fn"
done)
check "every transaction and cache callback is extern \"C\"" "" "$bad"

# 6. Connecting to SPI has one owner: glue/spi_connection.hpp (one message, SPI_finish checked).
bad=$(grep -nE '\bSPI_(connect|connect_ext|finish)\(' src/glue/*.cpp src/glue/*.hpp src/glue/*/*.cpp src/glue/*/*.hpp | grep -v '^src/glue/spi_connection.hpp:')
check "only glue/spi_connection.hpp connects to SPI and finishes" "" "$bad"
tap_done
