//! Projects and what a builder edits in them: pages and their versions, datasources, preview links.

use crate::api::routes::Routes;

pub mod datasources;
pub mod pages;
pub mod previews;
pub mod projects;
pub mod versions;

/// Mounts this room's routes under `/api`.
pub fn routes(r: &mut Routes) {
    projects::routes(r);
    pages::routes(r);
    versions::routes(r);
    datasources::routes(r);
    previews::routes(r);
}
