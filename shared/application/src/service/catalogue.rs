//! The 一件事 catalogue: `GET /v1/catalogue` and `GET /v1/catalogue/{bundle_id}` (anyone),
//! and the operator's `apply` (a new version, in force for new cases at once, with an
//! audit event).

use super::*;
use domain::catalogue::{Catalogue, Version};

/// `GET /v1/catalogue`: the version in force.
pub async fn catalogue(app: &App) -> Result<Value, ServiceError> {
    Ok(app.catalogue().await?.to_json())
}

/// `GET /v1/catalogue/{bundle_id}`: one bundle of the version in force, with the version.
pub async fn catalogue_bundle(app: &App, bundle_id: &str) -> Result<Value, ServiceError> {
    let v = app.catalogue().await?;
    let b = v
        .catalogue
        .bundle(bundle_id)
        .ok_or(ServiceError::NotFound)?;
    let mut out = serde_json::to_value(b).expect("serialises");
    out["version"] = v.version.into();
    Ok(out)
}

/// What applying a catalogue did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Stored as this version.
    New(u32),
    /// The same as the version in force: nothing stored.
    Unchanged(u32),
}

/// Apply a checked catalogue as the next version (the caller checked it with
/// [`Catalogue::parse`]); `by` names the operator. An apply that races another is
/// retried on the new latest version.
pub async fn apply_catalogue(
    app: &App,
    catalogue: Catalogue,
    by: &str,
) -> Result<Applied, ServiceError> {
    for _ in 0..3 {
        let current = app.catalogue().await?;
        if current.catalogue.diff(&catalogue).is_empty() {
            return Ok(Applied::Unchanged(current.version));
        }
        let next = Version {
            version: current.version + 1,
            applied_at: app.now().to_rfc3339(),
            applied_by: by.to_string(),
            catalogue: catalogue.clone(),
        };
        match app.catalogues.apply_catalogue(&next).await {
            Ok(()) => {
                let event =
                    domain::audit::AuditEvent::catalogue_applied(app.now(), by, next.version);
                app.audit.record(&event).await?;
                tracing::info!(version = next.version, "catalogue applied");
                return Ok(Applied::New(next.version));
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::Unavailable(
        "目录正被另一位运维人员更新，请稍后再试".into(),
    ))
}
