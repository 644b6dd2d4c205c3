//! Reading transfers as a given actor sees them, and the check that a step is theirs to take:
//! shared by the transfer pages and the JSON API, so both list, show and authorize the same way.
//! A transfer the actor may not see answers exactly as one that does not exist.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use time::OffsetDateTime;

use crate::db::transfers::{self as transfers_db, Details, DocumentFile, Loaded, Scope};
pub use crate::db::transfers::{DocumentInfo, QueueCursor};
use crate::domain::Rir;
use crate::domain::authz::{self, Action, Actor, Role, TransferAccess};
use crate::domain::notification::ServiceLevels;
use crate::error::{AppError, AppResult};

/// What someone hears about a transfer that does not exist or that they may not see: the
/// same words, so the two cannot be told apart.
pub fn not_found_message(id: i64) -> String {
    format!("There is no transfer {id} that you may see.")
}

pub(crate) fn not_found(id: i64) -> AppError {
    AppError::NotFound(not_found_message(id))
}

/// What someone hears about a step they may not take on a transfer they may see.
pub(crate) fn not_yours(l: &Loaded) -> AppError {
    AppError::Forbidden(format!(
        "This step is not yours to take: {} is {}.",
        l.facts.reference,
        l.state.describe()
    ))
}

/// Takes a transfer's lock for this transaction (see `db::transfers::lock_for_update`) and
/// loads it, or answers that there is no such transfer.
pub(crate) async fn lock_and_load(conn: &impl ConnectionTrait, id: i64) -> AppResult<Loaded> {
    transfers_db::lock_and_load(conn, id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// Whose transfers the actor's list shows: a member's organisation's, a hostmaster's registry's,
/// everyone's for an auditor; refused to a role that may list none.
pub fn list_scope(actor: &Actor) -> AppResult<Scope> {
    require(actor, Action::ViewTransfer)?;
    Ok(scope_of(&actor.role))
}

/// Whose transfers an actor's lists show.
fn scope_of(role: &Role) -> Scope {
    match role {
        Role::Member { org_id } => Scope::Organisation(org_id.get()),
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
) -> AppResult<Vec<Loaded>> {
    require(actor, Action::ViewTransfer)?;
    let scope = scope_of(&actor.role);
    let found = transfers_db::list(db, scope, open_only, before, limit).await?;
    Ok(transfers_db::load_many(db, found).await?)
}

/// [`list`], and how many transfers the actor may see in all (open ones, with `open_only`).
/// A member's total is counted on each view, along the member's own transfers (the two sides'
/// indexes). A registry's and everyone's span thousands of transfers: those are kept in
/// `totals` and counted again only when the transfers' revision moved.
pub async fn list_with_total(
    db: &DatabaseConnection,
    totals: &ListTotals,
    actor: &Actor,
    open_only: bool,
    before: Option<i64>,
    limit: u64,
) -> AppResult<(Vec<Loaded>, u64)> {
    require(actor, Action::ViewTransfer)?;
    let scope = scope_of(&actor.role);
    let (found, total) = match scope {
        Scope::Organisation(_) => {
            transfers_db::list_page(db, scope, open_only, before, limit).await?
        }
        Scope::Registry(_) | Scope::Everything => {
            let (found, revision) =
                transfers_db::list_page_at_revision(db, scope, open_only, before, limit).await?;
            let total = match revision.and_then(|r| totals.get(scope, open_only, r)) {
                Some(total) => total,
                None => {
                    let (total, revision) =
                        transfers_db::count_at_revision(db, scope, open_only).await?;
                    totals.put(scope, open_only, revision, total);
                    total
                }
            };
            (found, total)
        }
    };
    Ok((found, total))
}

/// The lists' totals of the scopes many people view (a registry's, everyone's), each with the
/// transfers' revision it was counted at (`db::transfers::count_at_revision`). The revision
/// moves in the database with every new transfer and change of state, whichever process wrote
/// it, so a total kept here is right for as long as the revision a view reads is the same.
#[derive(Default)]
pub struct ListTotals {
    counted: std::sync::Mutex<std::collections::HashMap<(Scope, bool), (i64, u64)>>,
}

impl ListTotals {
    /// The total of `scope` counted at `revision`, if kept.
    fn get(&self, scope: Scope, open_only: bool, revision: i64) -> Option<u64> {
        let counted = self.counted.lock().unwrap_or_else(|e| e.into_inner());
        match counted.get(&(scope, open_only)) {
            Some(&(at, total)) if at == revision => Some(total),
            _ => None,
        }
    }

    /// Keeps `total`, counted at `revision`, unless a total of a later revision is kept already
    /// (a slower view that counted before it must not replace it).
    fn put(&self, scope: Scope, open_only: bool, revision: i64, total: u64) {
        let mut counted = self.counted.lock().unwrap_or_else(|e| e.into_inner());
        let kept = counted
            .entry((scope, open_only))
            .or_insert((revision, total));
        if kept.0 < revision {
            *kept = (revision, total);
        }
    }
}

/// The `after` of a queue link (the page's and the API's), read: a bad one is a bad request.
pub fn queue_cursor(after: Option<&str>) -> AppResult<Option<QueueCursor>> {
    after
        .map(str::parse::<QueueCursor>)
        .transpose()
        .map_err(AppError::BadRequest)
}

/// A page of a hostmaster's queue, with the counts of the whole queue.
pub struct QueuePage {
    pub registry: Rir,
    /// The steps of this page, oldest waiting first.
    pub steps: Vec<Loaded>,
    /// Every step waiting on the registry, on this page or another.
    pub waiting: u64,
    /// Those past the registry's service level.
    pub overdue: u64,
    /// When the next of the others will be past it (to the second below), if any waits.
    pub next_overdue: Option<OffsetDateTime>,
    /// Where the next page starts, when there is one.
    pub next: Option<QueueCursor>,
}

/// The registry whose queue the actor works: a hostmaster's; anyone else is refused.
pub fn queue_registry(actor: &Actor) -> AppResult<Rir> {
    match actor.role {
        Role::Hostmaster { registry } => Ok(registry),
        _ => Err(AppError::Forbidden(
            "The queue is for registry hostmasters.".into(),
        )),
    }
}

/// A page of at most `limit` of the steps waiting on a hostmaster's registry, oldest first,
/// after `after` when given: the page loaded, with the counts, in one statement however long
/// the queue.
pub async fn queue(
    db: &DatabaseConnection,
    actor: &Actor,
    service_levels: &ServiceLevels,
    now: OffsetDateTime,
    after: Option<QueueCursor>,
    limit: u64,
) -> AppResult<QueuePage> {
    let registry = queue_registry(actor)?;
    let overdue_since = now - service_levels.of(registry);
    let (mut found, counts) =
        transfers_db::queue_page(db, registry, after, limit + 1, overdue_since).await?;
    let more = found.len() as u64 > limit;
    found.truncate(limit as usize);
    let next = more.then(|| found.last()).flatten().map(|l| QueueCursor {
        updated_at: l.row.updated_at,
        id: l.row.id,
    });
    Ok(QueuePage {
        registry,
        steps: found,
        waiting: counts.waiting,
        overdue: counts.overdue,
        next_overdue: counts
            .next_overdue
            .map(|at| at + service_levels.of(registry)),
        next,
    })
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
        Err(not_yours(&l))
    }
}

/// The documents of a transfer (the caller has checked it may see it), in upload order.
pub async fn documents(db: &DatabaseConnection, id: i64) -> AppResult<Vec<DocumentInfo>> {
    Ok(transfers_db::documents(db, id).await?)
}

/// What is shown of a transfer the actor may see (see [`transfers_db::details`]); the holdings
/// its blocks touch are read when `with_holdings`.
pub async fn details(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    with_holdings: bool,
) -> AppResult<(Details, TransferAccess)> {
    let visible = |l: &Loaded| {
        let access = TransferAccess::new(&l.facts, l.state.clone());
        authz::can(actor, Action::ViewTransfer, Some(&access))
    };
    let d = transfers_db::details(db, id, with_holdings, visible)
        .await?
        .ok_or_else(|| not_found(id))?;
    let access = TransferAccess::new(&d.transfer.facts, d.transfer.state.clone());
    Ok((d, access))
}

/// A document of a transfer the actor may see, with its bytes.
pub async fn document_file(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    doc: i64,
) -> AppResult<DocumentFile> {
    load_visible(db, actor, id).await?;
    transfers_db::document_file(db, id, doc)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Transfer {id} has no document {doc}.")))
}

/// Whether the actor may read the agreed price: the parties, their registries and auditors; an
/// administrator (who runs the system, not transfers) may not.
pub fn sees_price(actor: &Actor) -> bool {
    actor.role != Role::Admin
}

/// The organisation a member files for.
pub async fn organisation(
    db: &DatabaseConnection,
    id: i64,
) -> AppResult<crate::db::entities::organisation::Model> {
    crate::db::organisations::by_id(db, id)
        .await?
        .ok_or_else(|| AppError::NotFound("your organisation is missing".into()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_total_answers_its_own_revision_and_is_never_replaced_by_an_older_one() {
        let totals = ListTotals::default();
        let arin = Scope::Registry(Rir::Arin);
        assert_eq!(totals.get(arin, true, 7), None);
        totals.put(arin, true, 7, 40);
        assert_eq!(totals.get(arin, true, 7), Some(40));
        // Another revision, the other filter, another scope: not this total.
        assert_eq!(totals.get(arin, true, 8), None);
        assert_eq!(totals.get(arin, false, 7), None);
        assert_eq!(totals.get(Scope::Everything, true, 7), None);
        // A view that counted at an older revision and finished later keeps nothing.
        totals.put(arin, true, 9, 41);
        totals.put(arin, true, 8, 39);
        assert_eq!(totals.get(arin, true, 9), Some(41));
        assert_eq!(totals.get(arin, true, 8), None);
    }
}
