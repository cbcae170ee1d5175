//! The columns of the pg_catalog relations that never hold rows in weir
//! (no policies, publications, triggers, rules, inheritance, sequences,
//! extensions, comments or operator classes of its own). Queries over them are answered without running
//! (weir_planner::pgdialect); these columns are what they describe.

/// The columns of an always-empty relation.
pub fn columns(name: &str) -> Option<&'static str> {
    Some(match name {
        "pg_policy" => "oid:oid polname:name polrelid:oid polcmd:char polpermissive:bool polroles:oid[] polqual:text polwithcheck:text",
        "pg_policies" => "schemaname:name tablename:name policyname:name permissive:text roles:text[] cmd:text qual:text with_check:text",
        "pg_statistic_ext" => "oid:oid stxrelid:oid stxname:name stxnamespace:oid stxowner:oid stxstattarget:int4 stxkeys:int2[] stxkind:text[] stxexprs:text",
        "pg_publication" => "oid:oid pubname:name pubowner:oid puballtables:bool pubinsert:bool pubupdate:bool pubdelete:bool pubtruncate:bool pubviaroot:bool",
        "pg_publication_rel" => "oid:oid prpubid:oid prrelid:oid prqual:text prattrs:int2[]",
        "pg_publication_namespace" => "oid:oid pnpubid:oid pnnspid:oid",
        "pg_inherits" => "inhrelid:oid inhparent:oid inhseqno:int4 inhdetachpending:bool",
        "pg_partitioned_table" => {
            "partrelid:oid partstrat:char partnatts:int2 partdefid:oid partattrs:int2[] partclass:oid[] partcollation:oid[] partexprs:text"
        }
        "pg_trigger" => {
            "oid:oid tgrelid:oid tgparentid:oid tgname:name tgfoid:oid tgtype:int2 tgenabled:char tgisinternal:bool tgconstrrelid:oid \
            tgconstrindid:oid tgconstraint:oid tgdeferrable:bool tginitdeferred:bool tgnargs:int2 tgattr:int2[] tgargs:text tgqual:text \
            tgoldtable:name tgnewtable:name"
        }
        "pg_rewrite" => "oid:oid rulename:name ev_class:oid ev_type:char ev_enabled:char is_instead:bool ev_qual:text ev_action:text",
        "pg_auth_members" => "roleid:oid member:oid grantor:oid admin_option:bool",
        "pg_attrdef" => "oid:oid adrelid:oid adnum:int2 adbin:text",
        "pg_enum" => "oid:oid enumtypid:oid enumsortorder:float4 enumlabel:name",
        "pg_range" => "rngtypid:oid rngsubtype:oid rngmultitypid:oid rngcollation:oid rngsubopc:oid rngcanonical:text rngsubdiff:text",
        "pg_locks" => {
            "locktype:text database:oid relation:oid page:int4 tuple:int2 virtualxid:text transactionid:xid classid:oid objid:oid \
            objsubid:int2 virtualtransaction:text pid:int4 mode:text granted:bool fastpath:bool waitstart:timestamptz"
        }
        "pg_event_trigger" => "oid:oid evtname:name evtevent:name evtowner:oid evtfoid:oid evtenabled:char evttags:text[]",
        "pg_sequence" => "seqrelid:oid seqtypid:oid seqstart:int8 seqincrement:int8 seqmax:int8 seqmin:int8 seqcache:int8 seqcycle:bool",
        "pg_extension" => "oid:oid extname:name extowner:oid extnamespace:oid extrelocatable:bool extversion:text extconfig:oid[] extcondition:text[]",
        "pg_description" => "objoid:oid classoid:oid objsubid:int4 description:text",
        "pg_shdescription" => "objoid:oid classoid:oid description:text",
        "pg_seclabel" => "objoid:oid classoid:oid objsubid:int4 provider:text label:text",
        "pg_opclass" => "oid:oid opcmethod:oid opcname:name opcnamespace:oid opcowner:oid opcfamily:oid opcintype:oid opcdefault:bool opckeytype:oid",
        "pg_depend" => "classid:oid objid:oid objsubid:int4 refclassid:oid refobjid:oid refobjsubid:int4 deptype:char",
        _ => return None,
    })
}
