// The import from soft deletion: one batch of a table's soft-deleted rows moved into the
// archive, archived with their own deletion time, actor and reason.
#pragma once
#include "glue/archive_table.hpp"
#include "glue/deletion_context.hpp"

namespace deleted_record::glue {

// ImportRequest is one batch's work: the table and the SQL expressions over its row (text, as
// the caller wrote them; deleted_at, actor and reason may be null: not given).
struct ImportRequest {
  Oid target;
  text* soft_deleted;
  text* deleted_at;
  text* actor;
  text* reason;
  int32 batch_size;
};

// ImportBatch deletes up to batch_size rows for which soft_deleted is true from the target, as
// the calling user (its rights, row-level security, foreign-key actions, the archive trigger),
// and each archive row is assembled with the deletion time, actor and reason the expressions give
// for its row. Returns how many rows moved (0: none left). The caller must own the table, and the
// table must be attached. It errors, undoing the batch, when not every row was archived.
int64 ImportBatch(const ImportRequest* request);

// ImportStampsActive is true while an import batch deletes its rows (one test per archived row).
bool ImportStampsActive();

// ImportStampSupplies says which parts of the deletion context the batch's stamp gives this row:
// an actor (reason) expression that is not NULL for it. Rows outside the batch (a cascade's) get
// none.
SuppliedContext ImportStampSupplies(Relation rel, HeapTuple tuple);

// ApplyImportStamp puts the import's deletion time, actor and reason for a row of the batch
// (rel and tuple as the archive trigger sees them) into its archive row's values; rows the batch
// did not select (a cascade's) are left as assembled.
void ApplyImportStamp(Relation rel, HeapTuple tuple, const ArchiveTable* target, Datum* values, bool* nulls);

// ImportRanAs says whether a batch of deleted_record_import ran in this session as that role
// (past the owner check): only then may it report an import's progress.
bool ImportRanAs(Oid role);

// RequireNonatomicCall raises an error unless the calling procedure may COMMIT (CALL outside a
// transaction block); procedure names it in the message.
void RequireNonatomicCall(const char* procedure);

}  // namespace deleted_record::glue
