-- The archive's full-text index (SQLite's 013_search.sql, FTS5 there): an expression index over what members
-- saw, in the same words as FTS5's unicode61 tokenizer with remove_diacritics (case and accents aside).
-- unaccent ships with PostgreSQL and is a trusted extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE FUNCTION search_terms(body TEXT, conversation TEXT, verdict TEXT) RETURNS tsvector
LANGUAGE SQL IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN body <> '' AND substr(conversation, 1, 6) <> 'watch:'
        AND verdict NOT IN ('hold', 'rejected', 'removed', 'retracted')
    THEN to_tsvector('simple'::regconfig, public.unaccent('public.unaccent'::regdictionary, body)) END
$$;

CREATE INDEX messages_search ON messages USING GIN (search_terms(body, conversation, verdict));
