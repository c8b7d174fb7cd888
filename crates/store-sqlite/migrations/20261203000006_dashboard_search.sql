-- The dashboard's search and an integration's page at 100,000 integrations (`bench/run
-- dashboard`, docs/benchmarks.md). Keep in step with the other backend.
--
-- An exact e-mail address, in any case, by index instead of reading every integration.
CREATE INDEX integrations_by_email ON integrations (environment_id, lower(end_user_email));

-- A part of an organisation's name: a trigram index (FTS5's trigram tokenizer, which folds
-- case) of the names, searched with a phrase of three characters or more. It keeps its own
-- copy of each name with the integration's id (FTS5 assigns its own rowids, so a VACUUM that
-- renumbers the integrations' rowids cannot desynchronise it); the triggers keep it in step.
-- Deleting an integration reads the index's ids to find its row, which is rare enough.
CREATE VIRTUAL TABLE integrations_names USING fts5 (
    name,
    id UNINDEXED,
    tokenize = 'trigram'
);
INSERT INTO integrations_names (name, id) SELECT end_user_organization_name, id FROM integrations;
CREATE TRIGGER integrations_names_insert AFTER INSERT ON integrations BEGIN
    INSERT INTO integrations_names (name, id) VALUES (new.end_user_organization_name, new.id);
END;
CREATE TRIGGER integrations_names_delete AFTER DELETE ON integrations BEGIN
    DELETE FROM integrations_names WHERE id = old.id;
END;
CREATE TRIGGER integrations_names_update AFTER UPDATE OF end_user_organization_name, id
    ON integrations BEGIN
    DELETE FROM integrations_names WHERE id = old.id;
    INSERT INTO integrations_names (name, id) VALUES (new.end_user_organization_name, new.id);
END;

-- An integration's audit entries, newest first.
CREATE INDEX audit_events_by_target ON audit_events (environment_id, target, created_at DESC, id DESC);
