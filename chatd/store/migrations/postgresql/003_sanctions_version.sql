-- Mutes and the watchlist bump the same counter as members and blocks (001_schema.sql): every instance's
-- cache of them (chatd/sanctions.py) reloads when another instance changes them, as its directory does.
CREATE TRIGGER mutes_changed AFTER INSERT OR UPDATE OR DELETE ON mutes
    FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();
CREATE TRIGGER watchlist_changed AFTER INSERT OR UPDATE OR DELETE ON watchlist
    FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();
