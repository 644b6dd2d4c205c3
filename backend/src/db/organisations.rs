//! Organisations: lookups and the bulk upsert used by registry imports.

use std::collections::HashMap;

use sea_orm::ActiveValue::Unchanged;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use time::OffsetDateTime;

use super::bulk::Kind;
use super::entities::organisation::{self, Entity as Organisation};
use crate::domain::Rir;
use crate::domain::transfer::OrgId;
use crate::domain::transfer::{Membership, OrgFacts};

/// Rows per multi-row INSERT: well under SQLite's and PostgreSQL's bind-parameter limits.
pub const BATCH: usize = 500;

/// An organisation to create if its (registry, handle) is not known yet.
pub struct NewOrganisation {
    pub handle: String,
    pub name: String,
    pub country: Option<String>,
}

/// An organisation as a bulk row: registry, handle, name, country, membership, created at.
type BulkOrganisation<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, &'a str, &'a str);

/// Inserts the organisations not yet known at `registry` and returns the id of every handle.
pub async fn upsert_many(
    conn: &impl ConnectionTrait,
    registry: Rir,
    orgs: Vec<NewOrganisation>,
    now: OffsetDateTime,
) -> Result<HashMap<String, i64>, DbErr> {
    let created_at = super::bulk::timestamp(now)?;
    let rows: Vec<BulkOrganisation<'_>> = orgs
        .iter()
        .map(|o| {
            (
                registry.token(),
                o.handle.as_str(),
                o.name.as_str(),
                o.country.as_deref(),
                Membership::GoodStanding.as_str(),
                created_at.as_str(),
            )
        })
        .collect();
    let columns = [
        ("registry", Kind::Text),
        ("handle", Kind::Text),
        ("name", Kind::Text),
        ("country", Kind::Text),
        ("membership", Kind::Text),
        ("created_at", Kind::Timestamp),
    ];
    let on_conflict = "ON CONFLICT (registry, handle) DO NOTHING";
    super::bulk::insert(conn, "organisations", &columns, &rows, Some(on_conflict)).await?;
    ids_by_handle(conn, registry).await
}

/// Every organisation id of a registry, by handle.
pub async fn ids_by_handle(
    conn: &impl ConnectionTrait,
    registry: Rir,
) -> Result<HashMap<String, i64>, DbErr> {
    let rows: Vec<(String, i64)> = Organisation::find()
        .select_only()
        .column(organisation::Column::Handle)
        .column(organisation::Column::Id)
        .filter(organisation::Column::Registry.eq(registry.token()))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// One organisation, by id.
pub async fn by_id(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<organisation::Model>, DbErr> {
    Organisation::find_by_id(id).one(conn).await
}

/// Gives an organisation a new name (its registry handle stays).
pub async fn rename(conn: &impl ConnectionTrait, id: i64, name: &str) -> Result<(), DbErr> {
    organisation::ActiveModel {
        id: Unchanged(id),
        name: Set(name.to_owned()),
        ..Default::default()
    }
    .update(conn)
    .await?;
    Ok(())
}

/// Maps a row to the facts the rules decide on.
pub fn to_facts(row: &organisation::Model) -> Result<OrgFacts, DbErr> {
    let registry = Rir::from_token(&row.registry).ok_or_else(|| {
        DbErr::Custom(format!(
            "organisation {}: unknown registry {:?}",
            row.id, row.registry
        ))
    })?;
    let membership = Membership::parse(&row.membership).ok_or_else(|| {
        DbErr::Custom(format!(
            "organisation {}: unknown membership {:?}",
            row.id, row.membership
        ))
    })?;
    Ok(OrgFacts {
        id: OrgId(row.id),
        registry,
        name: row.name.clone(),
        membership,
    })
}

/// Organisations with at least one active member, by registry and name: the only ones that can
/// accept a transfer, so the filing form offers these.
pub async fn with_members(
    conn: &impl sea_orm::ConnectionTrait,
) -> Result<Vec<organisation::Model>, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    let ids: Vec<Option<i64>> = crate::db::entities::user::Entity::find()
        .select_only()
        .column(crate::db::entities::user::Column::OrganisationId)
        .distinct()
        .filter(crate::db::entities::user::Column::Role.eq("member"))
        .filter(crate::db::entities::user::Column::Active.eq(true))
        .into_tuple()
        .all(conn)
        .await?;
    organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(ids.into_iter().flatten()))
        .order_by_asc(organisation::Column::Registry)
        .order_by_asc(organisation::Column::Name)
        .all(conn)
        .await
}

/// Creates one organisation (an administrator's form); `None` when the registry already has
/// the handle.
pub async fn create(
    conn: &impl ConnectionTrait,
    registry: Rir,
    org: NewOrganisation,
    now: OffsetDateTime,
) -> Result<Option<organisation::Model>, DbErr> {
    use sea_orm::ActiveModelTrait;
    let taken = Organisation::find()
        .filter(organisation::Column::Registry.eq(registry.token()))
        .filter(organisation::Column::Handle.eq(&org.handle))
        .one(conn)
        .await?;
    if taken.is_some() {
        return Ok(None);
    }
    organisation::ActiveModel {
        registry: Set(registry.token().to_owned()),
        handle: Set(org.handle),
        name: Set(org.name),
        country: Set(org.country),
        membership: Set(Membership::GoodStanding.as_str().to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map(Some)
}

/// What an administrator's search of organisations matches: a case-insensitive part of the name
/// or handle, with the searcher's `%` and `_` taken literally; everything when `text` is empty.
fn matching(text: &str) -> Condition {
    if text.is_empty() {
        return Condition::all();
    }
    let pattern = format!(
        "%{}%",
        text.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let like = |col: organisation::Column| {
        Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(&pattern).escape('\\'))
    };
    Condition::all().add(
        Condition::any()
            .add(like(organisation::Column::Name))
            .add(like(organisation::Column::Handle)),
    )
}

/// How many organisations the search `text` matches (see [`search`]).
pub async fn count_matching(conn: &impl ConnectionTrait, text: &str) -> Result<u64, DbErr> {
    Organisation::find()
        .filter(matching(text))
        .count(conn)
        .await
}

/// The first `limit` organisations the search `text` matches with an id above `after`, by id
/// (keyset pagination).
pub async fn search(
    conn: &impl ConnectionTrait,
    text: &str,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<organisation::Model>, DbErr> {
    let mut page = Organisation::find()
        .filter(matching(text))
        .order_by_asc(organisation::Column::Id)
        .limit(limit);
    if let Some(after) = after {
        page = page.filter(organisation::Column::Id.gt(after));
    }
    page.all(conn).await
}

/// The organisations with these ids (any order; unknown ids are left out).
pub async fn by_ids(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<Vec<organisation::Model>, DbErr> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Organisation::find()
        .filter(super::packed::id_in_expr(
            conn.get_database_backend(),
            "id",
            &ids,
        ))
        .all(conn)
        .await
}

/// The organisation of `registry` with this handle (the unique `(registry, handle)` index).
pub async fn by_handle(
    conn: &impl ConnectionTrait,
    registry: Rir,
    handle: &str,
) -> Result<Option<organisation::Model>, DbErr> {
    Organisation::find()
        .filter(organisation::Column::Registry.eq(registry.token()))
        .filter(organisation::Column::Handle.eq(handle))
        .one(conn)
        .await
}
