//! Entity of the `finding_overrides` table (schema in `migrations/`).

use sea_orm::entity::prelude::*;

/// `Deserialize` reads a row packed as a JSON array of the columns in this order
/// (`db::transfers::packed_records`): times as RFC 3339 text.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "finding_overrides")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub transfer_id: i64,
    pub rule_id: String,
    pub reason: String,
    pub user_id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
