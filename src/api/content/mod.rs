//! Projects and what a builder edits in them: pages and their versions, datasources, preview links.

pub mod datasources;
pub mod pages;
pub mod previews;
pub mod projects;
pub mod versions;

/// Mounts this room's routes under `/api`.
pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.configure(projects::routes)
        .configure(pages::routes)
        .configure(versions::routes)
        .configure(datasources::routes)
        .configure(previews::routes);
}
