-- The dashboard's search and an integration's page at 100,000 integrations (`bench/run
-- dashboard`, docs/benchmarks.md). Keep in step with the other backend.
--
-- An exact e-mail address, in any case, by index instead of reading every integration.
CREATE INDEX integrations_by_email ON integrations (environment_id, lower(end_user_email));

-- An integration's audit entries, newest first.
CREATE INDEX audit_events_by_target ON audit_events (environment_id, target, created_at DESC, id DESC);

-- A part of an organisation's name: a trigram index (pg_trgm) of the lower-cased names, which
-- `LIKE '%…%'` uses for three characters or more. pg_trgm ships with PostgreSQL and is a
-- trusted extension, but a server may lack it or the role may not create it: the migration
-- then goes on without the index, and the search reads every integration as before. The
-- extension goes to `public` (or stays wherever it already is), and the index names its
-- operator class there, so that it works whatever this database's `search_path` is.
-- `fastupdate = off`: a new name goes into the index at once instead of a pending list that
-- every search reads until the next vacuum (up to 4 MB: 5 to 10 ms a search at 100,000).
DO $$
DECLARE
    trgm_schema TEXT;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm is not available (%): the search by organisation scans', SQLERRM;
    END;
    SELECT n.nspname INTO trgm_schema FROM pg_extension e
        JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF trgm_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX integrations_by_organization ON integrations '
                       'USING gin (lower(end_user_organization_name) %I.gin_trgm_ops) '
                       'WITH (fastupdate = off)',
                       trgm_schema);
    END IF;
END $$;
