// The attachment contract, decided here and nowhere else: which trigger archives a table, the
// table's options (attachment id, retention, excluded and masked columns: the merge of all its
// archive triggers' arguments) and its TRUNCATE policy. The capture path, the TRUNCATE guard and
// every SQL object that needs the rule (the deleted_record_attached view, attach/detach, purge,
// the partition guards) ask this file, the SQL ones through deleted_record_attachments().
#pragma once
#include "glue/archive_table.hpp"

namespace deleted_record::glue {

// BuildAttachmentArgument checks the options against the table (by OID) and returns the
// archive trigger's argument (palloc'd), or null when there are no options. attachment is the
// table's attachment id (text), or null.
char* BuildAttachmentArgument(Oid relid, const char* attachment, const Interval* retention, ArrayType* exclude,
                              ArrayType* mask);

// ArchiveTriggerArgument is rel's contract as one trigger argument (palloc'd): the merge of
// the options of every archive trigger rel has (its own and those cloned from its ancestors),
// or null when it has no options at all.
const char* ArchiveTriggerArgument(Relation rel, const ArchiveTable* archive);

// ReadAttachmentArgument reads an archive trigger's argument into *options, whose strings
// and name arrays are palloc'd in CurrentMemoryContext (nothing to free); a failed verdict
// says why the argument does not parse, for the caller's error message.
boundary::Verdict ReadAttachmentArgument(const char* argument, boundary::OptionLists* options);

// TriggerScan walks one relation's pg_trigger rows in name order (their firing order), without
// locking the relation: BeginTriggerScan, NextTrigger until it returns null, EndTriggerScan.
struct TriggerScan {
  Relation catalog;  // pg_trigger, for the rows' descriptor
  SysScanDesc scan;
};
TriggerScan BeginTriggerScan(Oid relid);
HeapTuple NextTrigger(TriggerScan* scan);
void EndTriggerScan(TriggerScan* scan);

// ExtensionFunction is the OID of the extension's function name(types) in the extension's
// schema (never through search_path), or InvalidOid.
Oid ExtensionFunction(const char* name, int nargs, Oid* types);

// IsAttachedOnItsOwn is true when relid has an archive trigger of its own (not a clone of its
// parent's): the tables deleted_record_attachments() lists (Citus shards excepted).
bool IsAttachedOnItsOwn(Oid relid);

// IsArchivingTrigger is true when the firing trigger is the one that archives the row: the
// first archive trigger of the table, in firing order, without a WHEN condition that fires in
// this session; without such a trigger every conditional one archives the rows its condition
// lets through. Whichever trigger archives, it applies the table's contract.
bool IsArchivingTrigger(const TriggerData* data);

// ListAttachments fills the result set of deleted_record_attachments(): one row per table with
// an archive trigger of its own (Citus shards excepted).
void ListAttachments(FunctionCallInfo fcinfo);

// TruncateGuardPolicy is the policy of relid's own TRUNCATE guard (the first by name), or null.
const char* TruncateGuardPolicy(Oid relid);

// CheckNewArchiveTrigger refuses, at CREATE TRIGGER (also inside CREATE SCHEMA), an archive trigger whose argument is not
// a valid contract, masks columns while its creator may not execute deleted_record_mask, or
// names an attachment id that belongs to another table (a superuser, as pg_restore, rebinds it).
void CheckNewArchiveTrigger(EventTriggerData* event);

// FollowColumnChanges rewrites the options of a table whose columns were renamed or dropped
// (the deleted_record_follow_columns event trigger).
void FollowColumnChanges(EventTriggerData* event);

}  // namespace deleted_record::glue
