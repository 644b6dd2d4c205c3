//! Transfers: loading the aggregate the pure core decides on, in-flight claims, and history.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::entities::{
    document, finding_override, organisation, transfer, transfer_block, transfer_event,
};
use super::holdings::range_of;
use super::organisations::to_facts;
use crate::domain::transfer::{
    DocumentKind, HoldingFacts, HoldingOrigin, InFlightClaim, NeedJustification, TransferFacts,
};
use crate::domain::workflow::State;
use crate::domain::{Ipv4Range, Rir, TransferType};

/// A transfer as stored, with what the core needs.
pub struct Loaded {
    pub row: transfer::Model,
    pub facts: TransferFacts,
    pub state: State,
}

fn corrupt(what: String) -> DbErr {
    DbErr::Custom(what)
}

/// Bumps the version of a transfer. It is the first write of every transaction that changes a
/// transfer: it takes SQLite's write lock at once and PostgreSQL's row lock, so two events on
/// one transfer run one after the other. Returns false when the transfer does not exist.
pub async fn lock_for_update(conn: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    let res = transfer::Entity::update_many()
        .col_expr(
            transfer::Column::Version,
            Expr::col(transfer::Column::Version).add(1),
        )
        .filter(transfer::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Loads a transfer with its parties, blocks, documents and need justification.
pub async fn load(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Loaded>, DbErr> {
    let Some(row) = transfer::Entity::find_by_id(id).one(conn).await? else {
        return Ok(None);
    };
    Ok(load_many(conn, vec![row]).await?.pop())
}

/// Completes transfer rows into what the core decides on, with one query each for the
/// organisations, blocks and document kinds of all of them (a page of a list or queue).
pub async fn load_many(
    conn: &impl ConnectionTrait,
    rows: Vec<transfer::Model>,
) -> Result<Vec<Loaded>, DbErr> {
    use sea_orm::QuerySelect;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let orgs: std::collections::HashMap<i64, organisation::Model> = organisation::Entity::find()
        .filter(
            organisation::Column::Id.is_in(
                rows.iter()
                    .flat_map(|r| [r.source_org_id, r.recipient_org_id]),
            ),
        )
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut blocks = blocks_of(conn, &ids).await?;
    // Only the kinds: the documents' bytes stay in the database.
    let kinds: Vec<(i64, String)> = document::Entity::find()
        .select_only()
        .columns([document::Column::TransferId, document::Column::Kind])
        .filter(document::Column::TransferId.is_in(ids.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    let org = |org_id: i64| {
        orgs.get(&org_id)
            .ok_or_else(|| corrupt(format!("organisation {org_id} is missing")))
            .and_then(to_facts)
    };
    let mut loaded = Vec::with_capacity(rows.len());
    for row in rows {
        let id = row.id;
        let kind = TransferType::from_nro_name(&row.kind)
            .ok_or_else(|| corrupt(format!("transfer {id}: kind {:?}", row.kind)))?;
        let state = State::from_parts(&row.state, row.state_data.as_deref())
            .map_err(|e| corrupt(format!("transfer {id}: {e}")))?;
        let need = row.need_text.clone().map(|text| NeedJustification {
            text,
            horizon_months: row.need_horizon_months.and_then(|m| u32::try_from(m).ok()),
            planned_utilisation_percent: row
                .need_utilisation_percent
                .and_then(|p| u32::try_from(p).ok()),
        });
        let facts = TransferFacts {
            id,
            reference: row.reference.clone(),
            kind,
            source: org(row.source_org_id)?,
            recipient: org(row.recipient_org_id)?,
            blocks: blocks.remove(&id).unwrap_or_default(),
            need,
            documents: kinds
                .iter()
                .filter(|(t, _)| *t == id)
                .filter_map(|(_, k)| DocumentKind::parse(k))
                .collect(),
        };
        loaded.push(Loaded { row, facts, state });
    }
    Ok(loaded)
}

/// Holdings that overlap any of the blocks, whoever holds them, as the rules see them.
pub async fn holdings_touching(
    conn: &impl ConnectionTrait,
    blocks: &[Ipv4Range],
) -> Result<Vec<HoldingFacts>, DbErr> {
    let mut out: Vec<HoldingFacts> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for block in blocks {
        for h in super::holdings::overlapping(conn, *block).await? {
            if !seen.insert(h.id) {
                continue;
            }
            out.push(HoldingFacts {
                range: range_of(h.start_addr, h.end_addr)?,
                registry: Rir::from_token(&h.registry)
                    .ok_or_else(|| corrupt(format!("holding {}: registry", h.id)))?,
                org_id: h.organisation_id,
                registered_on: h.registered_on,
                received_on: h.received_on,
                origin: HoldingOrigin::parse(&h.origin)
                    .ok_or_else(|| corrupt(format!("holding {}: origin", h.id)))?,
            });
        }
    }
    Ok(out)
}

/// Blocks of other open transfers that overlap any of `blocks`.
pub async fn in_flight_claims(
    conn: &impl ConnectionTrait,
    except: Option<i64>,
    blocks: &[Ipv4Range],
) -> Result<Vec<InFlightClaim>, DbErr> {
    let mut claims = Vec::new();
    for block in blocks {
        let rows = transfer_block::Entity::find()
            .filter(transfer_block::Column::StartAddr.lte(i64::from(block.end())))
            .filter(transfer_block::Column::EndAddr.gte(i64::from(block.start())))
            .find_also_related(transfer::Entity)
            .filter(transfer::Column::State.is_not_in(State::TERMINAL_NAMES))
            .all(conn)
            .await?;
        for (b, t) in rows {
            let Some(t) = t else { continue };
            if Some(t.id) == except {
                continue;
            }
            let claim = InFlightClaim {
                reference: t.reference,
                range: range_of(b.start_addr, b.end_addr)?,
            };
            if !claims.contains(&claim) {
                claims.push(claim);
            }
        }
    }
    Ok(claims)
}

/// Overrides recorded for a transfer, as (rule id, reason).
pub async fn overrides(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Vec<finding_override::Model>, DbErr> {
    finding_override::Entity::find()
        .filter(finding_override::Column::TransferId.eq(id))
        .order_by_asc(finding_override::Column::Id)
        .all(conn)
        .await
}

/// The timeline of a transfer, oldest first.
pub async fn history(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Vec<transfer_event::Model>, DbErr> {
    transfer_event::Entity::find()
        .filter(transfer_event::Column::TransferId.eq(id))
        .order_by_asc(transfer_event::Column::Id)
        .all(conn)
        .await
}

/// Whose transfers a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Transfers in which the organisation is source or recipient.
    Organisation(i64),
    /// Transfers touching the registry on either side.
    Registry(Rir),
    Everything,
}

fn scoped(scope: Scope) -> sea_orm::Select<transfer::Entity> {
    let q = transfer::Entity::find();
    match scope {
        Scope::Organisation(org) => q.filter(
            transfer::Column::SourceOrgId
                .eq(org)
                .or(transfer::Column::RecipientOrgId.eq(org)),
        ),
        Scope::Registry(rir) => q.filter(
            transfer::Column::SourceRegistry
                .eq(rir.token())
                .or(transfer::Column::RecipientRegistry.eq(rir.token())),
        ),
        Scope::Everything => q,
    }
}

/// A page of transfers in the scope, newest first, after the transfer id `before` (keyset).
/// `open_only` leaves out completed, rejected, withdrawn and expired transfers.
pub async fn list(
    conn: &impl ConnectionTrait,
    scope: Scope,
    open_only: bool,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<transfer::Model>, DbErr> {
    use sea_orm::QuerySelect;
    let mut q = scoped(scope);
    if open_only {
        q = q.filter(transfer::Column::State.is_not_in(State::TERMINAL_NAMES));
    }
    if let Some(before) = before {
        q = q.filter(transfer::Column::Id.lt(before));
    }
    q.order_by_desc(transfer::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// How many transfers the scope holds.
pub async fn count(
    conn: &impl ConnectionTrait,
    scope: Scope,
    open_only: bool,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    let mut q = scoped(scope);
    if open_only {
        q = q.filter(transfer::Column::State.is_not_in(State::TERMINAL_NAMES));
    }
    q.count(conn).await
}

/// The steps a registry's hostmasters must take, oldest waiting first: reviews of their side,
/// and the finalizations and disputes of transfers whose source registry they are.
pub async fn queue(
    conn: &impl ConnectionTrait,
    rir: Rir,
    limit: u64,
) -> Result<Vec<transfer::Model>, DbErr> {
    use sea_orm::{Condition, QuerySelect};
    let source = transfer::Column::SourceRegistry.eq(rir.token());
    let recipient = transfer::Column::RecipientRegistry.eq(rir.token());
    transfer::Entity::find()
        .filter(
            Condition::any()
                .add(source.clone().and(transfer::Column::State.is_in([
                    "source_review",
                    "awaiting_finalization",
                    "disputed",
                ])))
                .add(recipient.and(transfer::Column::State.eq("recipient_review"))),
        )
        .order_by_asc(transfer::Column::UpdatedAt)
        .order_by_asc(transfer::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// The blocks of several transfers, by transfer id, in address order.
async fn blocks_of(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<Ipv4Range>>, DbErr> {
    let mut out: std::collections::HashMap<i64, Vec<Ipv4Range>> = Default::default();
    if ids.is_empty() {
        return Ok(out);
    }
    for b in transfer_block::Entity::find()
        .filter(transfer_block::Column::TransferId.is_in(ids.iter().copied()))
        .order_by_asc(transfer_block::Column::StartAddr)
        .all(conn)
        .await?
    {
        out.entry(b.transfer_id)
            .or_default()
            .push(range_of(b.start_addr, b.end_addr)?);
    }
    Ok(out)
}

/// Names of organisations by id.
pub async fn organisation_names(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>, DbErr> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}
