//! "Load this resource if the token may see its project", written once for every resource.

use super::error::ApiError;
use super::extract::{uuid_or_404, Auth};
use crate::domain::token::Scope;
use crate::store::StoreError;
use std::future::Future;
use uuid::Uuid;

/// What a token needs to touch a resource: admin, or (for publish resources) publish or admin.
#[derive(Debug, Clone, Copy)]
pub enum Need {
    Admin,
    Publish,
}

impl Need {
    /// 403 unless the token has the scope this needs; checked before any lookup.
    pub fn check_scope(self, auth: &Auth) -> Result<(), ApiError> {
        match self {
            Need::Admin => auth.require_scope(Scope::Admin),
            Need::Publish => auth
                .require_scope(Scope::Publish)
                .or_else(|_| auth.require_scope(Scope::Admin))
                .map_err(|_| {
                    ApiError::forbidden("this token lacks the `publish` or `admin` scope")
                }),
        }
    }

    /// The scope, then the project: one the token may not see is a 404 like a missing one.
    pub fn check(self, auth: &Auth, project: Uuid) -> Result<(), ApiError> {
        self.check_scope(auth)?;
        if auth.sees(project) {
            Ok(())
        } else {
            Err(ApiError::NotFound("project"))
        }
    }
}

/// A resource that belongs to one project.
pub trait Owned {
    fn project_id(&self) -> Uuid;
}

macro_rules! owned {
    ($($t:ty),*) => {$(
        impl Owned for $t {
            fn project_id(&self) -> Uuid {
                self.project_id
            }
        }
    )*};
}
owned!(
    crate::domain::page::Page,
    crate::domain::datasource::Datasource,
    crate::domain::target::Target,
    crate::domain::publish::Job,
    crate::domain::publish::Release,
    crate::domain::webhook::Endpoint,
    crate::store::deliveries::Delivery,
    crate::store::pages::PageRef
);

/// Checks the scope, parses `id` (an unparsable id is a 404 like an unknown one), loads the
/// resource and checks the token may see its project: one it may not see is the same 404 as
/// one that does not exist.
pub async fn load<T, F, Fut>(
    auth: &Auth,
    need: Need,
    what: &'static str,
    id: &str,
    get: F,
) -> Result<T, ApiError>
where
    T: Owned,
    F: FnOnce(Uuid) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    need.check_scope(auth)?;
    let id = uuid_or_404(id, what)?;
    let item = get(id).await.map_err(|e| ApiError::from_store(e, what))?;
    if !auth.sees(item.project_id()) {
        return Err(ApiError::NotFound(what));
    }
    Ok(item)
}

/// A project by id or slug, if the token may see it.
pub async fn project(
    state: &super::AppState,
    auth: &Auth,
    need: Need,
    id_or_slug: &str,
) -> Result<crate::domain::project::Project, ApiError> {
    need.check_scope(auth)?;
    let p = state
        .store
        .get_project(id_or_slug)
        .await
        .map_err(|e| ApiError::from_store(e, "project"))?;
    need.check(auth, p.id)?;
    Ok(p)
}

/// 409 when `settings` would put this project's page keys where another project with the
/// same tenant keeps its own ([`cache::shared`]).
pub async fn ensure_own_keys(
    state: &super::AppState,
    project: uuid::Uuid,
    tenant: &str,
    settings: &crate::domain::settings::CacheSettings,
    path: &'static str,
) -> Result<(), ApiError> {
    if !crate::cache::shared::shares_keys(&state.store, project, tenant, settings).await? {
        return Ok(());
    }
    Err(ApiError::Conflict {
        code: "cache_shared",
        message: format!(
            "another project keeps its page keys in this Redis database with the same tenant \
             (`{tenant}`): their pages would overwrite each other. Give this project its own \
             tenant_slug, or use another database (e.g. redis://host:6379/1)"
        ),
        path,
    })
}
