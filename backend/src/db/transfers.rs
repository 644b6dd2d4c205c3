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
    let org = |org_id: i64| async move {
        organisation::Entity::find_by_id(org_id)
            .one(conn)
            .await?
            .ok_or_else(|| corrupt(format!("organisation {org_id} is missing")))
    };
    let source = to_facts(&org(row.source_org_id).await?)?;
    let recipient = to_facts(&org(row.recipient_org_id).await?)?;
    let blocks = transfer_block::Entity::find()
        .filter(transfer_block::Column::TransferId.eq(id))
        .order_by_asc(transfer_block::Column::StartAddr)
        .all(conn)
        .await?
        .into_iter()
        .map(|b| range_of(b.start_addr, b.end_addr))
        .collect::<Result<Vec<_>, _>>()?;
    let documents = document::Entity::find()
        .filter(document::Column::TransferId.eq(id))
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|d| DocumentKind::parse(&d.kind))
        .collect();
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
        source,
        recipient,
        blocks,
        need,
        documents,
    };
    Ok(Some(Loaded { row, facts, state }))
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
