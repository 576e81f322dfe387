-- A save is one statement: the UPDATE of a page records its history row itself, from the
-- values just written, in the same statement (so no transaction round trips per save, and
-- history cannot miss a version). Pruning beyond EDGEPUB_PAGE_HISTORY_LIMIT stays in the
-- application (it knows the limit) and is batched.
CREATE TRIGGER page_versions_on_save AFTER UPDATE OF version ON pages
WHEN NEW.version <> OLD.version
BEGIN
    INSERT INTO page_versions (page_id, version, slug, name, title, description, layout_data,
                               seo_data, is_public, is_homepage, saved_at)
    VALUES (NEW.id, NEW.version, NEW.slug, NEW.name, NEW.title, NEW.description, NEW.layout_data,
            NEW.seo_data, NEW.is_public, NEW.is_homepage, NEW.updated_at);
END;
