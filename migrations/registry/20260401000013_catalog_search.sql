-- The public catalog's text search: a trigram index, so `ILIKE '%…%'`
-- over title, topic and annotation of approved programs does not read
-- every program. pg_trgm is a trusted extension: the database's owner (the
-- service role) may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS programs_catalog_text ON programs
    USING gin ((title || ' ' || topic || ' ' || annotation) gin_trgm_ops)
    WHERE status = 'approved';
