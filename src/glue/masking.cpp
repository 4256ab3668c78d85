// The masking secret and the HMAC. The secret table is read once per transaction (it is tiny,
// and a restored dump may bring an older secret, which then becomes the one in use).
#include "glue/masking.hpp"

#include "glue/archive_table.hpp"
#include "glue/transaction_end.hpp"

namespace deleted_record::glue {

namespace {

constexpr int kMaxSecretLength = 1024;

struct Secret {
  bool known;
  int length;
  uint8 bytes[kMaxSecretLength];
};

Secret secret = {};

// LoadSecret reads the oldest row of deleted_record_secret.
void LoadSecret() {
  const ArchiveTable* archive = ResolveArchiveTable();
  Oid relid = get_relname_relid("deleted_record_secret", archive->schema);
  if (!OidIsValid(relid))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                    errmsg("the masking secret of extension \"deleted_record\" is missing"),
                    errhint("Masking needs deleted_record 1.1 or later: ALTER EXTENSION deleted_record UPDATE.")));
  Relation table = table_open(relid, AccessShareLock);
  TimestampTz oldest = DT_NOEND;
  bool found = false;
  AttrNumber created_at = get_attnum(relid, "created_at");
  AttrNumber key = get_attnum(relid, "secret");
  ScanLatest(table, [&](TupleTableSlot* slot) {
    bool created_null = false, key_null = false;
    Datum created = slot_getattr(slot, created_at, &created_null);
    Datum value = slot_getattr(slot, key, &key_null);
    if (key_null || (found && !created_null && DatumGetTimestampTz(created) >= oldest)) return true;
    bytea* bytes = DatumGetByteaPP(value);
    int length = VARSIZE_ANY_EXHDR(bytes);
    if (length < 32 || length > kMaxSecretLength) return true;
    memcpy(secret.bytes, VARDATA_ANY(bytes), length);
    secret.length = length;
    oldest = created_null ? DT_NOBEGIN : DatumGetTimestampTz(created);
    found = true;
    return true;
  });
  table_close(table, AccessShareLock);
  if (!found)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("the masking secret of extension \"deleted_record\" is missing"),
                    errdetail("The table deleted_record_secret has no usable row (at least 32 bytes).")));
  secret.known = true;
}

}  // namespace

extern "C" void MaskingOnTransactionEnd(XactEvent event, void* arg) {
  if (EndsTransaction(event)) {
    explicit_bzero(&secret, sizeof(secret));
  }
}

char* MaskedForm(const char* text, size_t length) {
  if (!secret.known) LoadSecret();
  uint8 digest[PG_SHA256_DIGEST_LENGTH];
  pg_hmac_ctx* context = pg_hmac_create(PG_SHA256);
  if (context == nullptr) ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
  if (pg_hmac_init(context, secret.bytes, secret.length) < 0 ||
      pg_hmac_update(context, reinterpret_cast<const uint8*>(text), length) < 0 ||
      pg_hmac_final(context, digest, sizeof(digest)) < 0) {
    const char* problem = pstrdup(pg_hmac_error(context));
    pg_hmac_free(context);
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not compute the HMAC of a masked value: %s", problem)));
  }
  pg_hmac_free(context);
  static const char kPrefix[] = "hmac:";
  char* form = static_cast<char*>(palloc(sizeof(kPrefix) + 2 * sizeof(digest)));
  memcpy(form, kPrefix, sizeof(kPrefix) - 1);
  hex_encode(reinterpret_cast<const char*>(digest), sizeof(digest), form + sizeof(kPrefix) - 1);
  form[sizeof(kPrefix) - 1 + 2 * sizeof(digest)] = '\0';
  return form;
}

}  // namespace deleted_record::glue
