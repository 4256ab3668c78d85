-- Typed access per table: deleted_record_view gives an attached table a companion view of its
-- archived rows, with the table's own columns typed as the table types them, and the
-- deleted_record_follow_views event trigger keeps it in step with the table. The view reads
-- only the archive (never the table, so no DDL on the table is ever blocked by it) and is a
-- security_invoker view: reading it needs exactly what reading the archive needs, row-level
-- security included. What the view must remember (the table's attachment id, the names the
-- table had and the renames and drops of its columns, with the archive id from which each
-- applies) is kept as JSON at the end of the view's own comment, so that it travels with the
-- view through pg_dump and only the view's owner can change it.

-- deleted_record_typed_value converts an archived JSON value to type_name (template gives the
-- type to return; it is NULL::type_name) the way jsonb_to_record does, and returns NULL when the
-- value does not convert, whatever the error (an old value of a column since retyped, say). Typed views call it for
-- rows archived before a column was retyped, so that one such value never fails the view for
-- every reader. Not a security definer: the type's input function and domain checks run as
-- the reader of the view, with search_path pinned (format_type names the type as it resolves
-- under that path).
CREATE FUNCTION deleted_record_typed_value(value jsonb, type_name text, template anyelement) RETURNS anyelement
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    result ALIAS FOR $0;
BEGIN
    EXECUTE format('SELECT t.x FROM pg_catalog.jsonb_to_record($1) AS t(x %s)', type_name)
       INTO result USING pg_catalog.jsonb_build_object('x', value);
    RETURN result;
EXCEPTION WHEN OTHERS THEN
    -- Whatever the type's input function or a domain's check raises (not a cancel): NULL.
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION deleted_record_typed_value(jsonb, text, anyelement) IS 'Internal: an archived value as the given type, or NULL when it does not convert (typed views, retyped columns)';

-- deleted_record_typed_value_ok tells whether an archived JSON value converts to type_name now,
-- the way jsonb_to_record converts it (a missing value is JSON NULL): a domain's NOT NULL or
-- CHECK, an enum label since renamed, a composite's domain field may refuse it. Typed views read a
-- column of such a type only when this says yes, in a subquery gated by it, and return NULL
-- otherwise, so that no archived value or absence (an excluded or masked column, a column added
-- later, a domain tightened later) fails the view. Runs as the reader, like the view.
CREATE FUNCTION deleted_record_typed_value_ok(value jsonb, type_name text) RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    EXECUTE format('SELECT FROM pg_catalog.jsonb_to_record($1) AS t(x %s)', type_name)
      USING pg_catalog.jsonb_build_object('x', value);
    RETURN true;
EXCEPTION WHEN OTHERS THEN
    -- Whatever the type's input function or a domain's check raises (not a cancel): no.
    RETURN false;
END
$$;
COMMENT ON FUNCTION deleted_record_typed_value_ok(jsonb, text) IS 'Internal: whether an archived value converts to the given type now (typed views, columns of domains, enums and composites)';

-- deleted_record_typed_view_since (internal) is the archive id from which rows of target (with
-- this attachment) were archived: the start of the earliest registry window of the attachment
-- or of the table's OID; NULL when the registry knows none. A new typed view starts there, so
-- that it never lists the rows of an earlier, dropped table of the same name. A security
-- definer (the registry is the owner's), it tells only that id.
CREATE FUNCTION deleted_record_typed_view_since(target regclass, attachment uuid) RETURNS uuid
    LANGUAGE plpgsql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    since uuid;
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    EXECUTE pg_catalog.format($q$SELECT w.from_id FROM %I.deleted_record_attachment w
                                  WHERE w.attachment_id OPERATOR(pg_catalog.=) $1
                                     OR w.relid OPERATOR(pg_catalog.=) $2::pg_catalog.oid
                                  ORDER BY w.from_id USING OPERATOR(pg_catalog.<) LIMIT 1$q$, ext_schema)
       INTO since USING attachment, target;
    RETURN since;
END
$$;
COMMENT ON FUNCTION deleted_record_typed_view_since(regclass, uuid) IS 'Internal: from which archive id a new typed view lists the rows of its table';

-- deleted_record_typed_view_sync (internal) (re)creates the typed view view_schema.view_name
-- of target: state is what the view remembered (NULL for a new view); it returns the new state.
-- It runs as its caller, who must be able to create the view (or own it, to replace it).
CREATE FUNCTION deleted_record_typed_view_sync(view_schema name, view_name name, target regclass, attachment uuid, state jsonb)
    RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    now_id text;
    since text;
    tab_schema text;
    tab_name text;
    names jsonb;
    steps jsonb;
    old_columns jsonb;
    new_columns jsonb := '{}';
    col record;
    last jsonb;
    step jsonb;
    i integer;
    lateral_sql text := '';
    current_doc text := 's0.d';
    column_list text := '';
    column_defs text := '';
    where_sql text := '';
    view_sql text;
    view_oid oid;
    view_owner oid;
    view_acl aclitem[];
    entry record;
    collision text;
    archive_columns constant text[] := '{archive_id,archive_object_id,archive_deleted_at,archive_actor,archive_reason,archive_metadata,archive_xact_key,archive_xact_id,archive_restored_at,archive_masked}';
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    EXECUTE format('SELECT %I.deleted_record_uuid7()::text', ext_schema) INTO now_id;
    SELECT n.nspname::text, c.relname::text INTO tab_schema, tab_name
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target;

    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO collision
      FROM pg_attribute a
     WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped AND a.attname::text = ANY (archive_columns);
    IF collision IS NOT NULL THEN
        RAISE EXCEPTION 'deleted_record_view: column % of table % has the name of an archive column of the typed view', collision, target
            USING ERRCODE = 'duplicate_column',
                  DETAIL = format('The view''s archive columns are %s.', array_to_string(archive_columns, ', '));
    END IF;

    -- Names: each window of names the table had, over a range of archive ids.
    IF state IS NULL THEN
        EXECUTE format('SELECT %I.deleted_record_typed_view_since($1, $2)::text', ext_schema) INTO since USING target, attachment;
    END IF;
    names := coalesce(state -> 'names', jsonb_build_array(jsonb_build_object('schema', tab_schema, 'table', tab_name, 'from', since)));
    last := names -> (jsonb_array_length(names) - 1);
    IF last ->> 'schema' <> tab_schema OR last ->> 'table' <> tab_name THEN
        names := jsonb_set(names, ARRAY[(jsonb_array_length(names) - 1)::text, 'until'], to_jsonb(now_id))
                 || jsonb_build_array(jsonb_build_object('schema', tab_schema, 'table', tab_name, 'from', now_id));
    END IF;

    -- Columns by attribute number: a renamed column reads its older rows under its old key, a
    -- dropped column's key is ignored in rows archived before the drop (a later column of the
    -- same name is another column), and a retyped column converts its older rows leniently.
    FOR col IN SELECT a.attnum, a.attname::text AS attname,
                      format_type(a.atttypid, a.atttypmod) AS typ,
                      CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                           THEN (SELECT format(' COLLATE %I.%I', cn.nspname, co.collname)
                                   FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                                  WHERE co.oid = a.attcollation) ELSE '' END AS coll
                 FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum LOOP
        new_columns := new_columns || jsonb_build_object(col.attnum::text, jsonb_build_array(col.attname, col.typ || col.coll));
    END LOOP;
    steps := coalesce(state -> 'steps', '[]');
    old_columns := coalesce(state -> 'columns', new_columns);
    FOR col IN SELECT o.key, o.value ->> 0 AS old_name, new_columns -> o.key ->> 0 AS new_name,
                      o.value ->> 1 AS old_type, new_columns -> o.key ->> 1 AS new_type
                 FROM jsonb_each(old_columns) o ORDER BY o.key::integer LOOP
        IF col.new_name IS NULL THEN
            steps := steps || jsonb_build_array(jsonb_build_object('drop', col.old_name, 'before', now_id));
        ELSIF col.new_name <> col.old_name THEN
            steps := steps || jsonb_build_array(jsonb_build_object('from', col.old_name, 'to', col.new_name, 'before', now_id));
        END IF;
        IF col.new_name IS NOT NULL AND col.new_type <> col.old_type THEN
            steps := steps || jsonb_build_array(jsonb_build_object('retype', col.key::integer, 'before', now_id));
        END IF;
    END LOOP;
    -- A column retyped since rows were archived: its values archived before the (latest) retype
    -- may not convert to the new type; those come back NULL (deleted_record_typed_value, which
    -- runs as the reader) instead of failing the view, and stay readable in the archive's data.
    FOR col IN SELECT a.attnum, a.attname::text AS attname, format_type(a.atttypid, a.atttypmod) AS typ,
                      new_columns -> a.attnum::text ->> 1 AS typ_coll,
                      CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                           THEN (SELECT format(' COLLATE %I.%I', cn.nspname, co.collname)
                                   FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                                  WHERE co.oid = a.attcollation) ELSE '' END AS coll,
                      (SELECT max(s.value ->> 'before') FROM jsonb_array_elements(steps) s(value)
                        WHERE (s.value ->> 'retype')::integer = a.attnum) AS retyped_before,
                      -- A type whose accepted values can change after rows were archived, or that
                      -- refuses NULL: anything but a base type (or an array of one).
                      NOT (t.typtype = 'b' AND (t.typelem = 0 OR (SELECT e.typtype FROM pg_type e WHERE e.oid = t.typelem) = 'b')) AS lenient
                 FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum LOOP
        column_defs := column_defs || CASE WHEN column_defs = '' THEN '' ELSE ', ' END;
        IF col.lenient THEN
            -- Read only when it converts now (the gate is evaluated before jsonb_to_record runs).
            column_list := column_list || format(
                E',\n       (SELECT t.x FROM pg_catalog.jsonb_to_record(pg_catalog.jsonb_build_object(''x'', r.%1$I)) AS t(x %2$s)\n'
                '         WHERE %3$I.deleted_record_typed_value_ok(r.%1$I, %2$L))%4$s AS %1$I',
                col.attname, col.typ, ext_schema, col.coll);
            column_defs := column_defs || format('%I pg_catalog.jsonb', col.attname);
        ELSIF col.retyped_before IS NULL THEN
            column_list := column_list || format(', r.%I', col.attname);
            column_defs := column_defs || format('%I %s', col.attname, col.typ_coll);
        ELSE
            column_list := column_list || format(
                E',\n       CAST(CASE WHEN a.id OPERATOR(pg_catalog.<) %1$L::pg_catalog.uuid THEN %2$I.deleted_record_typed_value(r.%3$I, %4$L, NULL::%4$s)\n'
                '                 ELSE (SELECT t.x FROM pg_catalog.jsonb_to_record(pg_catalog.jsonb_build_object(''x'', r.%3$I)) AS t(x %4$s)) END AS %4$s)%5$s AS %3$I',
                col.retyped_before, ext_schema, col.attname, col.typ, col.coll);
            column_defs := column_defs || format('%I pg_catalog.jsonb', col.attname);
        END IF;
    END LOOP;

    i := 0;
    FOR step IN SELECT s.value FROM jsonb_array_elements(steps) WITH ORDINALITY s(value, n)
                 WHERE NOT s.value ? 'retype' ORDER BY s.n LOOP
        i := i + 1;
        IF step ? 'drop' THEN
            lateral_sql := lateral_sql || format(
                E'\n  CROSS JOIN LATERAL (SELECT CASE WHEN a.id OPERATOR(pg_catalog.<) %2$L::pg_catalog.uuid THEN %1$s OPERATOR(pg_catalog.-) %3$L::pg_catalog.text ELSE %1$s END AS d) s%4$s',
                current_doc, step ->> 'before', step ->> 'drop', i);
        ELSE
            lateral_sql := lateral_sql || format(
                E'\n  CROSS JOIN LATERAL (SELECT CASE WHEN a.id OPERATOR(pg_catalog.<) %2$L::pg_catalog.uuid AND %1$s OPERATOR(pg_catalog.?) %3$L::pg_catalog.text\n'
                '                                 THEN (%1$s OPERATOR(pg_catalog.-) %3$L::pg_catalog.text) OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(%4$L::pg_catalog.text, %1$s OPERATOR(pg_catalog.->) %3$L::pg_catalog.text)\n'
                '                                 ELSE %1$s END AS d) s%5$s',
                current_doc, step ->> 'before', step ->> 'from', step ->> 'to', i);
        END IF;
        current_doc := format('s%s.d', i);
    END LOOP;

    SELECT string_agg(format('(a.schema_name OPERATOR(pg_catalog.=) %L AND a.table_name OPERATOR(pg_catalog.=) %L%s%s)',
                             w.value ->> 'schema', w.value ->> 'table',
                             CASE WHEN w.value ->> 'from' IS NULL THEN ''
                                  ELSE format(' AND a.id OPERATOR(pg_catalog.>=) %L::pg_catalog.uuid', w.value ->> 'from') END,
                             CASE WHEN w.value ->> 'until' IS NULL THEN ''
                                  ELSE format(' AND a.id OPERATOR(pg_catalog.<) %L::pg_catalog.uuid', w.value ->> 'until') END),
                      E'\n    OR ' ORDER BY w.n)
      INTO where_sql
      FROM jsonb_array_elements(names) WITH ORDINALITY w(value, n);

    view_sql := format(
        E' VIEW %1$I.%2$I WITH (security_invoker = true) AS\n'
        'SELECT a.id AS archive_id, a.object_id AS archive_object_id, a.deleted_at AS archive_deleted_at, a.actor AS archive_actor, a.reason AS archive_reason,\n'
        '       a.metadata AS archive_metadata, a.xact_key AS archive_xact_key, a.xact_id AS archive_xact_id,\n'
        '       a.restored_at AS archive_restored_at,\n'
        '       (SELECT pg_catalog.jsonb_object_agg(m.k, a.data OPERATOR(pg_catalog.->) m.k) FROM pg_catalog.unnest(a.masked_columns) m(k)\n'
        '         WHERE a.data OPERATOR(pg_catalog.?) m.k) AS archive_masked%3$s\n'
        '  FROM %4$I.deleted_record a\n'
        '  CROSS JOIN LATERAL (SELECT a.data OPERATOR(pg_catalog.-) COALESCE(a.masked_columns, ''{}''::pg_catalog.text[]) AS d) s0%5$s\n'
        '  CROSS JOIN LATERAL pg_catalog.jsonb_to_record(%6$s) AS r(%7$s)\n'
        ' WHERE %8$s',
        view_schema, view_name, column_list, ext_schema, lateral_sql, current_doc, column_defs, where_sql);

    view_oid := to_regclass(format('%I.%I', view_schema, view_name));
    IF view_oid IS NULL THEN
        EXECUTE 'CREATE' || view_sql;
    ELSE
        BEGIN
            -- Renamed columns keep their place (and whatever depends on the view) when renamed in it.
            FOR step IN SELECT s.value FROM jsonb_array_elements(steps) s(value)
                         WHERE s.value ? 'from' AND s.value ->> 'before' = now_id LOOP
                IF EXISTS (SELECT FROM pg_attribute WHERE attrelid = view_oid AND attname::text = step ->> 'from' AND NOT attisdropped)
                   AND NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = view_oid AND attname::text = step ->> 'to' AND NOT attisdropped) THEN
                    EXECUTE format('ALTER VIEW %I.%I RENAME COLUMN %I TO %I', view_schema, view_name, step ->> 'from', step ->> 'to');
                END IF;
            END LOOP;
            EXECUTE 'CREATE OR REPLACE' || view_sql;
        EXCEPTION WHEN invalid_table_definition OR feature_not_supported OR duplicate_column OR datatype_mismatch THEN
            -- A dropped or retyped column: the view is made again, with its owner and grants.
            SELECT c.relowner, c.relacl INTO view_owner, view_acl FROM pg_class c WHERE c.oid = view_oid;
            EXECUTE format('DROP VIEW %I.%I', view_schema, view_name);
            EXECUTE 'CREATE' || view_sql;
            EXECUTE format('ALTER VIEW %I.%I OWNER TO %I', view_schema, view_name, pg_get_userbyid(view_owner));
            IF view_acl IS NOT NULL THEN
                EXECUTE format('REVOKE ALL ON %I.%I FROM PUBLIC', view_schema, view_name);
                FOR entry IN SELECT a.grantee, a.privilege_type, a.is_grantable FROM aclexplode(view_acl) a WHERE a.grantee <> view_owner LOOP
                    EXECUTE format('GRANT %s ON %I.%I TO %s%s', entry.privilege_type, view_schema, view_name,
                                   CASE WHEN entry.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(entry.grantee)) END,
                                   CASE WHEN entry.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
                END LOOP;
            END IF;
        END;
    END IF;
    state := jsonb_build_object('attachment', attachment, 'relid', target::oid, 'names', names, 'columns', new_columns, 'steps', steps);
    EXECUTE format('COMMENT ON VIEW %I.%I IS %L', view_schema, view_name,
                   format('Archived rows of %s, typed (deleted_record_view; kept in step with the table by the extension, which reads what follows): %s',
                          target, state));
    RETURN state;
END
$$;
COMMENT ON FUNCTION deleted_record_typed_view_sync(name, name, regclass, uuid, jsonb) IS 'Internal: (re)creates a typed view of an attached table''s archived rows (deleted_record_view)';

-- deleted_record_typed_views (internal) lists the typed views and what each remembers. Only a
-- view whose comment holds well-formed state counts, and only when the view's owner is (a member
-- of) the owner of the table it is followed for, found by the attachment id of its state through
-- the attachment registry (not by the OID the state remembers, stale after a pg_restore, nor by a
-- claim of the comment): anyone can comment their own views like a typed
-- view, and that must neither break others' DDL nor make anyone rebuild a view for a table that
-- is not its owner's.
CREATE FUNCTION deleted_record_typed_views(OUT view_oid oid, OUT view_schema name, OUT view_name name, OUT view_owner oid, OUT state jsonb)
    RETURNS SETOF record
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    candidate record;
    table_owner oid;
    followed regclass;
    ext_schema name;
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    FOR candidate IN
        SELECT c.oid, n.nspname, c.relname, c.relowner,
               substring(d.description FROM 'reads what follows\): (\{.*\})$') AS state_text
          FROM pg_catalog.pg_description d
          JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) d.objoid
          JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
         WHERE d.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid OPERATOR(pg_catalog.=) 0
           AND c.relkind OPERATOR(pg_catalog.=) 'v'
           AND d.description OPERATOR(pg_catalog.~) '^Archived rows of .*, typed \(deleted_record_view; .*: \{.*\}$'
    LOOP
        BEGIN
            state := candidate.state_text::jsonb;
            -- The table the view is followed for (found by its attachment id in the registry,
            -- the OID the state remembers only when the attachment is gone and its names still
            -- match): never the OID alone, stale after a pg_restore, nor what a comment claims.
            EXECUTE pg_catalog.format('SELECT %I.deleted_record_typed_view_table($1)', ext_schema) INTO followed USING state;
            -- No such table: the view is followed for none, and is listed only when its owner
            -- owns what the remembered OID names (if anything).
            table_owner := NULL;
            SELECT c.relowner INTO table_owner FROM pg_catalog.pg_class c
             WHERE c.oid OPERATOR(pg_catalog.=) coalesce(followed::oid, (state OPERATOR(pg_catalog.->>) 'relid')::oid);
        EXCEPTION WHEN data_exception THEN
            CONTINUE;  -- not state this extension wrote
        END;
        CONTINUE WHEN table_owner IS NOT NULL AND NOT pg_catalog.pg_has_role(candidate.relowner, table_owner, 'MEMBER');
        view_oid := candidate.oid;
        view_schema := candidate.nspname;
        view_name := candidate.relname;
        view_owner := candidate.relowner;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION deleted_record_typed_views() IS 'Internal: the typed views made by deleted_record_view, with what each remembers';

-- deleted_record_typed_view_table (internal) is the table a typed view follows: the table with
-- its attachment id, else (after a detach) the table it was made for while it keeps its names.
CREATE FUNCTION deleted_record_typed_view_table(state jsonb) RETURNS regclass
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    found regclass;
    last jsonb := state -> 'names' -> (jsonb_array_length(state -> 'names') - 1);
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    EXECUTE format('SELECT a.relation FROM %I.deleted_record_attachments() a WHERE a.attachment_id = $1 LIMIT 1', ext_schema)
       INTO found USING (state ->> 'attachment')::uuid;
    IF found IS NULL THEN
        SELECT c.oid INTO found
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.oid = (state ->> 'relid')::oid AND c.relkind IN ('r', 'p')
           AND n.nspname::text = last ->> 'schema' AND c.relname::text = last ->> 'table';
    END IF;
    RETURN found;
END
$$;
COMMENT ON FUNCTION deleted_record_typed_view_table(jsonb) IS 'Internal: the table a typed view follows';

-- deleted_record_view gives an attached table a typed view of its archived rows: by default
-- <table>_deleted beside the table. Calling it again on that view brings it up to date.
CREATE FUNCTION deleted_record_view(target regclass, view_name name DEFAULT NULL) RETURNS regclass
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    rel record;
    attachment uuid;
    existing_state jsonb;
    state jsonb;
    stale boolean;
BEGIN
    IF target IS NULL THEN
        RAISE EXCEPTION 'deleted_record_view: target must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    SELECT c.oid, c.relname, c.relkind, c.relispartition, c.relowner, n.nspname INTO rel
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target;
    IF rel.oid IS NULL THEN
        RAISE EXCEPTION 'deleted_record_view: relation with OID % does not exist', target::oid USING ERRCODE = 'undefined_table';
    END IF;
    IF NOT pg_has_role(current_user, rel.relowner, 'USAGE') THEN
        RAISE EXCEPTION 'deleted_record_view: must be owner of table %', target
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- The view is made from the table's columns: an ALTER TABLE in progress (which the event
    -- trigger would only bring to a view that exists when it runs) is waited for, and the
    -- columns are read after it. SHARE UPDATE EXCLUSIVE: every column change takes a stronger
    -- lock, deletes and reads of the table go on.
    EXECUTE format('LOCK TABLE ONLY %s IN SHARE UPDATE EXCLUSIVE MODE', target);
    -- Under REPEATABLE READ or SERIALIZABLE the catalog as this transaction reads it may predate
    -- an ALTER committed while it waited: the view would be made of columns gone.
    EXECUTE format('SELECT %I.deleted_record_exists_now($1)', ext_schema) INTO stale USING format(
        'SELECT FROM (SELECT pg_catalog.string_agg(CAST(a.ctid AS pg_catalog.text), %L ORDER BY a.attnum) AS cols'
        '               FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) %s) s'
        ' WHERE s.cols IS DISTINCT FROM %L OR NOT EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) %s AND c.ctid OPERATOR(pg_catalog.=) %L)',
        ',', target::oid,
        (SELECT string_agg(a.ctid::text, ',' ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = target),
        target::oid, (SELECT c.ctid FROM pg_class c WHERE c.oid = target));
    IF stale THEN
        RAISE EXCEPTION 'deleted_record_view: table % was altered after this transaction''s snapshot was taken', target
            USING ERRCODE = 'serialization_failure',
                  HINT = 'Retry in a new transaction.';
    END IF;
    SELECT c.oid, c.relname, c.relkind, c.relispartition, c.relowner, n.nspname INTO rel
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target;
    EXECUTE format('SELECT a.attachment_id FROM %I.deleted_record_attachments() a WHERE a.relation = $1', ext_schema)
       INTO attachment USING target;
    IF attachment IS NULL THEN
        RAISE EXCEPTION 'deleted_record_view: % is not attached', target
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = CASE WHEN rel.relispartition THEN 'Its rows are archived under its partitioned table: make the view of that table.'
                              ELSE format('Attach it first: SELECT %I.deleted_record_attach(%L);', ext_schema, target::text) END;
    END IF;
    view_name := coalesce(view_name, left(rel.relname || '_deleted', 63)::name);
    EXECUTE format('SELECT v.state FROM %I.deleted_record_typed_views() v WHERE v.view_schema = $1 AND v.view_name = $2', ext_schema)
       INTO existing_state USING rel.nspname, view_name;
    IF to_regclass(format('%I.%I', rel.nspname, view_name)) IS NOT NULL THEN
        IF existing_state IS NULL OR (existing_state ->> 'attachment')::uuid IS DISTINCT FROM attachment THEN
            RAISE EXCEPTION 'deleted_record_view: relation %.% already exists', quote_ident(rel.nspname), quote_ident(view_name)
                USING ERRCODE = 'duplicate_table',
                      HINT = 'Name another view with view_name => ''...''.';
        END IF;
        state := existing_state;
    END IF;
    EXECUTE format('SELECT %I.deleted_record_typed_view_sync($1, $2, $3, $4, $5)', ext_schema)
       INTO state USING rel.nspname, view_name, target, attachment, state;
    IF existing_state IS NULL THEN
        -- The archive decides who reads it: the view adds no gate of its own.
        EXECUTE format('GRANT SELECT ON %I.%I TO PUBLIC', rel.nspname, view_name);
    END IF;
    RETURN format('%I.%I', rel.nspname, view_name)::regclass;
END
$$;
COMMENT ON FUNCTION deleted_record_view(regclass, name) IS 'Gives an attached table a typed view of its archived rows (default <table>_deleted), kept in step with the table';

-- deleted_record_follow_views keeps typed views in step with their tables after ALTER TABLE
-- (columns added, renamed, dropped or retyped; the table renamed or moved) and ALTER SCHEMA. It
-- runs as whoever ran the DDL (the table's owner): a view it may not replace gets a WARNING
-- saying how to bring it up to date. Named to fire after deleted_record_follow_attachments and
-- deleted_record_follow_columns.
CREATE FUNCTION deleted_record_follow_views() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    v record;
    target regclass;
    wanted jsonb;
    last jsonb;
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    IF ext_schema IS NULL THEN
        RETURN;
    END IF;
    FOR v IN EXECUTE format('SELECT * FROM %I.deleted_record_typed_views() WHERE state IS NOT NULL', ext_schema) LOOP
      -- One view that cannot be followed never fails the DDL that fired this: it gets a warning.
      BEGIN
        EXECUTE format('SELECT %I.deleted_record_typed_view_table($1)', ext_schema) INTO target USING v.state;
        CONTINUE WHEN target IS NULL;
        -- Up to date when the table has the names and columns the view remembers.
        SELECT jsonb_object_agg(a.attnum::text, jsonb_build_array(a.attname::text,
                   format_type(a.atttypid, a.atttypmod) ||
                   CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                        THEN (SELECT format(' COLLATE %I.%I', cn.nspname, co.collname)
                                FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                               WHERE co.oid = a.attcollation) ELSE '' END))
          INTO wanted
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped;
        last := v.state -> 'names' -> (jsonb_array_length(v.state -> 'names') - 1);
        CONTINUE WHEN wanted IS NOT DISTINCT FROM v.state -> 'columns'
                  AND EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                               WHERE c.oid = target AND n.nspname::text = last ->> 'schema' AND c.relname::text = last ->> 'table');
        IF NOT pg_has_role(current_user, v.view_owner, 'USAGE') THEN
            RAISE WARNING 'typed view %.% no longer matches table %', quote_ident(v.view_schema), quote_ident(v.view_name), target
                USING HINT = format('Its owner brings it up to date with: SELECT %I.deleted_record_view(%L, %L);', ext_schema, target::text, v.view_name);
            CONTINUE;
        END IF;
        BEGIN
            EXECUTE format('SELECT %I.deleted_record_typed_view_sync($1, $2, $3, $4, $5)', ext_schema)
               USING v.view_schema, v.view_name, target, (v.state ->> 'attachment')::uuid, v.state;
        EXCEPTION WHEN dependent_objects_still_exist OR duplicate_column THEN
            RAISE WARNING 'typed view %.% no longer matches table % and cannot be made again: %', quote_ident(v.view_schema),
                          quote_ident(v.view_name), target, SQLERRM
                USING HINT = 'Drop the objects that depend on the view, or rename the column, then call deleted_record_view again.';
        END;
      EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'typed view %.% cannot be followed: %', quote_ident(v.view_schema), quote_ident(v.view_name), SQLERRM;
      END;
    END LOOP;
END
$$;
COMMENT ON FUNCTION deleted_record_follow_views() IS 'Event trigger: typed views (deleted_record_view) follow their tables'' columns and names';
CREATE EVENT TRIGGER deleted_record_follow_views ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER SCHEMA')
    EXECUTE FUNCTION deleted_record_follow_views();
COMMENT ON EVENT TRIGGER deleted_record_follow_views IS 'Typed views (deleted_record_view) follow their tables'' columns and names';

-- deleted_record_drop_views drops a typed view with its table: a view that outlived its table
-- would go on listing, under the table's last names, the archived rows of whichever table takes
-- that name next (another table, other types), and would keep deleted_record_view from making
-- that table's view. The archived rows themselves stay in deleted_record. It runs as whoever
-- dropped the table: a view it may not drop (another owner, objects depending on it) gets a
-- WARNING saying so instead of failing the DROP.
CREATE FUNCTION deleted_record_drop_views() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    v record;
    target regclass;
    last jsonb;
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    IF ext_schema IS NULL
       OR NOT EXISTS (SELECT FROM pg_event_trigger_dropped_objects() d WHERE d.object_type = 'table') THEN
        RETURN;
    END IF;
    FOR v IN EXECUTE format('SELECT * FROM %I.deleted_record_typed_views() WHERE state IS NOT NULL', ext_schema) LOOP
      BEGIN
        last := v.state -> 'names' -> (jsonb_array_length(v.state -> 'names') - 1);
        CONTINUE WHEN NOT EXISTS (SELECT FROM pg_event_trigger_dropped_objects() d
                                   WHERE d.object_type = 'table'
                                     AND (d.objid = (v.state ->> 'relid')::oid
                                          OR (d.schema_name = last ->> 'schema' AND d.object_name = last ->> 'table')));
        EXECUTE format('SELECT %I.deleted_record_typed_view_table($1)', ext_schema) INTO target USING v.state;
        CONTINUE WHEN target IS NOT NULL;  -- its table is still there (a same-named table was dropped)
        CONTINUE WHEN to_regclass(format('%I.%I', v.view_schema, v.view_name)) IS NULL;
        BEGIN
            EXECUTE format('DROP VIEW %I.%I', v.view_schema, v.view_name);
        EXCEPTION WHEN insufficient_privilege OR dependent_objects_still_exist THEN
            RAISE WARNING 'typed view %.% of the dropped table %.% is left in place: %', quote_ident(v.view_schema),
                          quote_ident(v.view_name), quote_ident(last ->> 'schema'), quote_ident(last ->> 'table'), SQLERRM
                USING HINT = 'Drop it (and what depends on it): it would list the archived rows of the next table of that name.';
        END;
      EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'typed view %.% cannot be followed: %', quote_ident(v.view_schema), quote_ident(v.view_name), SQLERRM;
      END;
    END LOOP;
END
$$;
COMMENT ON FUNCTION deleted_record_drop_views() IS 'Event trigger: a typed view (deleted_record_view) is dropped with its table';
CREATE EVENT TRIGGER deleted_record_drop_views ON sql_drop
    WHEN TAG IN ('DROP TABLE', 'DROP SCHEMA', 'DROP OWNED')
    EXECUTE FUNCTION deleted_record_drop_views();
COMMENT ON EVENT TRIGGER deleted_record_drop_views IS 'Typed views (deleted_record_view) are dropped with their tables';
