# PGXS build of the deleted_record extension (C++17).
# `make && make install` builds and installs; `make installcheck` runs the
# pg_regress suite (sql/ + expected/) and the isolation specs (test/isolation/).
EXTENSION  = deleted_record
MODULE_big = deleted_record
DATA       = $(wildcard sql/deleted_record--*.sql)

CORE_SRCS = $(wildcard src/core/*.cpp)
GLUE_SRCS = $(wildcard src/glue/*.cpp)
OBJS      = $(CORE_SRCS:.cpp=.o) $(GLUE_SRCS:.cpp=.o)

REGRESS      = $(patsubst sql/%.sql,%,$(filter-out sql/deleted_record--%,$(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=deleted_record
ISOLATION      = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=deleted_record

# WERROR=1 (set by CI and scripts/test.sh) turns every warning into an error.
PG_CXXFLAGS = -std=c++17 -fPIC -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-register -Isrc $(if $(WERROR),-Werror)
SHLIB_LINK  = -lstdc++

# No LLVM bitcode for JIT inlining: it would need clang, and triggers are not JIT-compiled.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Every object is rebuilt when any header changes (simple and safe: the project is small).
$(OBJS): $(wildcard src/core/*.hpp src/glue/*.hpp)

# The pure core must never see PostgreSQL headers: build it without the server include path.
src/core/%.o: src/core/%.cpp
	$(CXX) -std=c++17 -O2 -fPIC -Wall -Wextra $(if $(WERROR),-Werror) -Isrc -c -o $@ $<
