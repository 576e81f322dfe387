-- The directory under the sites root that holds a project's local targets: chosen once at
-- creation (its slug, or slug-<id> when another project has that directory) and kept across
-- renames, so two projects never share a file. Existing projects keep the directory their
-- oldest local target already uses.
ALTER TABLE projects ADD COLUMN site_dir TEXT;
UPDATE projects SET site_dir = COALESCE(
    (SELECT split_part(t.path, '/', 1) FROM publish_targets t
      WHERE t.project_id = projects.id AND t.kind = 'local' AND position('/' in t.path) > 1
      ORDER BY t.created_at, t.id LIMIT 1),
    slug);
CREATE INDEX projects_site_dir ON projects (site_dir);
