//! Reading transfers as a given actor sees them, and the check that a step is theirs to take:
//! shared by the transfer pages and the JSON API, so both list, show and authorize the same way.
//! A transfer the actor may not see answers exactly as one that does not exist.

use sea_orm::DatabaseConnection;

use crate::db::entities::transfer;
use crate::db::transfers::{self as transfers_db, Loaded, Scope};
use crate::domain::authz::{self, Action, Actor, Role, TransferAccess};
use crate::error::{AppError, AppResult};
use crate::services::transfers::not_found;

/// Whose transfers an actor's lists show.
pub fn scope_of(role: &Role) -> Scope {
    match role {
        Role::Member { org_id } => Scope::Organisation(*org_id),
        Role::Hostmaster { registry } => Scope::Registry(*registry),
        _ => Scope::Everything,
    }
}

/// Refuses unless the actor's role may list transfers at all.
pub fn require(actor: &Actor, action: Action) -> AppResult<()> {
    if authz::can(actor, action, None) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Your role does not allow this page.".into(),
        ))
    }
}

/// A keyset page of the transfers the actor may see, newest first, with ids below `before`.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    open_only: bool,
    before: Option<i64>,
    limit: u64,
) -> AppResult<Vec<transfer::Model>> {
    require(actor, Action::ViewTransfer)?;
    let scope = scope_of(&actor.role);
    Ok(transfers_db::list(db, scope, open_only, before, limit).await?)
}

/// The oldest-waiting steps of a hostmaster's registry.
pub async fn queue(
    db: &DatabaseConnection,
    actor: &Actor,
    limit: u64,
) -> AppResult<(crate::domain::Rir, Vec<Loaded>)> {
    let Role::Hostmaster { registry } = actor.role else {
        return Err(AppError::Forbidden(
            "The queue is for registry hostmasters.".into(),
        ));
    };
    let found = transfers_db::queue(db, registry, limit).await?;
    Ok((registry, transfers_db::load_many(db, found).await?))
}

/// Loads a transfer the actor may see.
pub async fn load_visible(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> AppResult<(Loaded, TransferAccess)> {
    let l = transfers_db::load(db, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let access = TransferAccess::new(&l.facts, l.state.clone());
    if !authz::can(actor, Action::ViewTransfer, Some(&access)) {
        return Err(not_found(id));
    }
    Ok((l, access))
}

/// Refuses unless the actor may take `action` on the transfer now: checked before the request's
/// input is validated, so someone who may not act learns nothing from its errors.
pub async fn authorize(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    action: Action,
) -> AppResult<Loaded> {
    let (l, access) = load_visible(db, actor, id).await?;
    if authz::can(actor, action, Some(&access)) {
        Ok(l)
    } else {
        Err(AppError::Forbidden(format!(
            "This step is not yours to take: {} is {}.",
            l.facts.reference,
            l.state.describe()
        )))
    }
}

/// A document's particulars, without its content.
#[derive(Debug, Clone)]
pub struct DocumentInfo {
    pub id: i64,
    pub kind: String,
    pub filename: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_at: time::OffsetDateTime,
}

/// The documents of a transfer (the caller has checked it may see it), in upload order.
pub async fn documents(db: &DatabaseConnection, id: i64) -> AppResult<Vec<DocumentInfo>> {
    use crate::db::entities::document;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    let rows: Vec<(i64, String, String, i64, String, time::OffsetDateTime)> =
        document::Entity::find()
            .select_only()
            .columns([
                document::Column::Id,
                document::Column::Kind,
                document::Column::Filename,
                document::Column::SizeBytes,
                document::Column::Sha256,
                document::Column::CreatedAt,
            ])
            .filter(document::Column::TransferId.eq(id))
            .order_by_asc(document::Column::Id)
            .into_tuple()
            .all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, kind, filename, size_bytes, sha256, uploaded_at)| DocumentInfo {
                id,
                kind,
                filename,
                size_bytes,
                sha256,
                uploaded_at,
            },
        )
        .collect())
}

/// The fee lines of a transfer (the caller has checked it may see it).
pub async fn fees(
    db: &DatabaseConnection,
    id: i64,
) -> AppResult<Vec<crate::db::entities::fee_line::Model>> {
    use crate::db::entities::fee_line;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    Ok(fee_line::Entity::find()
        .filter(fee_line::Column::TransferId.eq(id))
        .order_by_asc(fee_line::Column::Id)
        .all(db)
        .await?)
}

/// Whether the actor may read the agreed price: the parties, their registries and auditors; an
/// administrator (who runs the system, not transfers) may not.
pub fn sees_price(actor: &Actor) -> bool {
    actor.role != Role::Admin
}

/// The organisations a member of `own` may file to: every other organisation with a member
/// who could accept, by registry and name.
pub async fn recipients(
    db: &DatabaseConnection,
    own: i64,
) -> AppResult<Vec<crate::db::entities::organisation::Model>> {
    Ok(crate::db::organisations::with_members(db)
        .await?
        .into_iter()
        .filter(|o| o.id != own)
        .collect())
}
