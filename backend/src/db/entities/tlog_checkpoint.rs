//! Entity of the `tlog_checkpoints` table (schema in `migrations/`).

use sea_orm::entity::prelude::*;

/// `Deserialize` reads a row packed as a JSON array of the columns in this order, as SQLite's
/// `json_array` and PostgreSQL's `json_build_array` write it
/// (`db::ledger_query::page_with_checkpoint`): times as RFC 3339 text.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "tlog_checkpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub origin: String,
    pub tree_size: i64,
    pub root_hash: String,
    pub vkey: String,
    pub note: String,
    pub cosignatures: String,
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
