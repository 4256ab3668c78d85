# PGXS build of the deleted_record extension (C++17).
# `make && make install` builds and installs; `make installcheck` runs the
# pg_regress suite (test/sql/ + test/expected/) and the isolation specs (test/isolation/).
EXTENSION  = deleted_record
EXTVERSION = 1.2
MODULE_big = deleted_record

# The install script of the current version is assembled from one file per object (sql/src/),
# update scripts from sql/updates/ (which include changed objects from sql/src/); the scripts
# of released versions are kept as they shipped.
CURRENT_SCRIPT = sql/deleted_record--$(EXTVERSION).sql
UPDATE_SCRIPTS = $(patsubst sql/updates/%,sql/%,$(wildcard sql/updates/deleted_record--*.sql))
DATA_built = $(CURRENT_SCRIPT) $(UPDATE_SCRIPTS)
DATA       = $(filter-out $(DATA_built),$(wildcard sql/deleted_record--*.sql))

CORE_SRCS = $(wildcard src/core/*.cpp)
GLUE_SRCS = $(wildcard src/glue/*.cpp src/glue/*/*.cpp)
OBJS      = $(CORE_SRCS:.cpp=.o) $(GLUE_SRCS:.cpp=.o)

REGRESS      = $(patsubst test/sql/%.sql,%,$(sort $(wildcard test/sql/*.sql)))
REGRESS_OPTS = --inputdir=test --load-extension=deleted_record
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
$(OBJS): $(wildcard src/core/*.hpp src/glue/*.hpp src/glue/*/*.hpp)

# The pure core must never see PostgreSQL headers: build it without the server include path.
src/core/%.o: src/core/%.cpp
	$(CXX) -std=c++17 -O2 -fPIC -Wall -Wextra $(if $(WERROR),-Werror) -Isrc -c -o $@ $<

$(CURRENT_SCRIPT): $(sort $(wildcard sql/src/*.sql)) sql/assemble.sh
	sql/assemble.sh install $@

sql/deleted_record--%.sql: sql/updates/deleted_record--%.sql $(wildcard sql/src/*.sql) sql/assemble.sh
	sql/assemble.sh update $< $@
