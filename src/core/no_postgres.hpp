// Included first by every core header: the core is plain C++ and must never see PostgreSQL.
#pragma once
#ifdef POSTGRES_H
#error "src/core is PostgreSQL-free: include core headers before postgres.h, and never postgres.h in src/core"
#endif
