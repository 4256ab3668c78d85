/*
 * proto_hook: a throwaway prototype (not part of deleted_record) of two C-level mechanisms the
 * Citus findings recommend, built and loaded by test/citus/11_c_prototype.sh:
 *
 * 1. An fmgr hook around Citus's create_distributed_table / create_reference_table /
 *    create_distributed_table_concurrently: when the table named by a constant first argument
 *    has triggers and all of them call deleted_record's functions, citus.enable_unsafe_triggers
 *    is switched on for the duration of that one call (a GUC nest level, as SET clauses of
 *    functions do) and restored afterwards. Any other trigger on the table keeps Citus's error.
 *
 * 2. proto_use_coordinated_transaction(): calls Citus's exported C function
 *    UseCoordinatedTransaction() (found with load_external_function, no link-time dependency),
 *    so the current transaction gets its distributed transaction id now instead of at its first
 *    distributed statement.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_language.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "nodes/primnodes.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/syscache.h"

PG_MODULE_MAGIC;

static needs_fmgr_hook_type prev_needs_fmgr_hook = NULL;
static fmgr_hook_type prev_fmgr_hook = NULL;

void _PG_init(void);
PG_FUNCTION_INFO_V1(proto_use_coordinated_transaction);

/* IsCitusDistributionFunction: is fn_oid one of Citus's functions that check table triggers? */
static bool
IsCitusDistributionFunction(Oid fn_oid)
{
	HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	bool result = false;

	if (!HeapTupleIsValid(tuple))
		return false;
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(tuple);
		const char *name = NameStr(proc->proname);

		result = proc->pronamespace == PG_CATALOG_NAMESPACE && proc->prolang == ClanguageId &&
			(strcmp(name, "create_distributed_table") == 0 ||
			 strcmp(name, "create_distributed_table_concurrently") == 0 ||
			 strcmp(name, "create_reference_table") == 0);
	}
	ReleaseSysCache(tuple);
	return result;
}

static bool
proto_needs_fmgr_hook(Oid fn_oid)
{
	if (prev_needs_fmgr_hook && prev_needs_fmgr_hook(fn_oid))
		return true;
	return IsCitusDistributionFunction(fn_oid);
}

/* FirstArgumentRelation: the regclass constant the call passes first, or InvalidOid. */
static Oid
FirstArgumentRelation(FmgrInfo *flinfo)
{
	Node *expr = flinfo->fn_expr;
	Node *first;

	if (expr == NULL || !IsA(expr, FuncExpr) || ((FuncExpr *) expr)->args == NIL)
		return InvalidOid;
	first = linitial(((FuncExpr *) expr)->args);
	if (!IsA(first, Const) || ((Const *) first)->consttype != REGCLASSOID || ((Const *) first)->constisnull)
		return InvalidOid;
	return DatumGetObjectId(((Const *) first)->constvalue);
}

/* OnlyDeletedRecordTriggers: rel has user triggers and every one calls a deleted_record function. */
static bool
OnlyDeletedRecordTriggers(Oid rel)
{
	Oid extension = get_extension_oid("deleted_record", true);
	Relation pg_trigger;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple tuple;
	int ours = 0, others = 0;

	if (!OidIsValid(extension))
		return false;
	pg_trigger = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(rel));
	scan = systable_beginscan(pg_trigger, TriggerRelidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_trigger trigger = (Form_pg_trigger) GETSTRUCT(tuple);

		if (trigger->tgisinternal || OidIsValid(trigger->tgparentid))
			continue;	/* Citus ignores these too */
		if (getExtensionOfObject(ProcedureRelationId, trigger->tgfoid) == extension)
			ours++;
		else
			others++;
	}
	systable_endscan(scan);
	table_close(pg_trigger, AccessShareLock);
	return ours > 0 && others == 0;
}

static void
proto_fmgr_hook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	if (prev_fmgr_hook)
		prev_fmgr_hook(event, flinfo, private);
	if (!IsCitusDistributionFunction(flinfo->fn_oid))
		return;
	switch (event)
	{
		case FHET_START:
		{
			Oid rel = FirstArgumentRelation(flinfo);

			*private = Int32GetDatum(0);
			if (OidIsValid(rel) && OnlyDeletedRecordTriggers(rel))
			{
				int level = NewGUCNestLevel();

				(void) set_config_option("citus.enable_unsafe_triggers", "on", PGC_USERSET, PGC_S_SESSION,
										 GUC_ACTION_SAVE, true, 0, false);
				*private = Int32GetDatum(level);
				elog(NOTICE, "proto_hook: citus.enable_unsafe_triggers on for this call (only deleted_record triggers on %u)", rel);
			}
			break;
		}
		case FHET_END:
			if (DatumGetInt32(*private) > 0)
				AtEOXact_GUC(true, DatumGetInt32(*private));
			*private = Int32GetDatum(0);
			break;
		case FHET_ABORT:
			/* the (sub)transaction abort restores the setting */
			*private = Int32GetDatum(0);
			break;
	}
}

void
_PG_init(void)
{
	prev_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = proto_needs_fmgr_hook;
	prev_fmgr_hook = fmgr_hook;
	fmgr_hook = proto_fmgr_hook;
}

Datum
proto_use_coordinated_transaction(PG_FUNCTION_ARGS)
{
	void (*use_coordinated_transaction)(void) =
		(void (*)(void)) load_external_function("citus", "UseCoordinatedTransaction", true, NULL);

	use_coordinated_transaction();
	PG_RETURN_VOID();
}
