-- The audit job's role (horizons_audit_writer, V002) may insert and select ledger entries and nothing else. PostgreSQL
-- 14 and older grant CREATE on schema public to PUBLIC, that is to every role, the audit job's login included: it
-- could create tables and functions next to the ledger. PostgreSQL 15 and later no longer grant it. Revoke it here when
-- this migration may (the migrating user owns schema public, or is a superuser), and grant it explicitly to the
-- database owner, who runs the migrations, so later migrations still can create objects. Otherwise a DBA runs the
-- REVOKE (README, "Storage"). V002 stays as applied (migrations are checksummed).
DO $$
DECLARE
    public_owner oid := (SELECT nspowner FROM pg_namespace WHERE nspname = 'public');
    database_owner name := (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database());
BEGIN
    IF public_owner IS NOT NULL AND pg_has_role(current_user, public_owner, 'USAGE') THEN
        EXECUTE format('GRANT USAGE, CREATE ON SCHEMA public TO %I', database_owner);
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    ELSIF public_owner IS NOT NULL THEN
        RAISE NOTICE 'CREATE on schema public not revoked from PUBLIC: % does not own schema public. A DBA can run: '
            'REVOKE CREATE ON SCHEMA public FROM PUBLIC; GRANT CREATE ON SCHEMA public TO %;', current_user, database_owner;
    END IF;
END $$;
