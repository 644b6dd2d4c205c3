//! Entity of the `transfer_events` table (schema in `migrations/`).

use sea_orm::entity::prelude::*;

/// `Deserialize` reads a row packed as a JSON array of the columns in this order
/// (`db::transfers::packed_records`): times as RFC 3339 text.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "transfer_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub transfer_id: i64,
    pub event: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_user_id: Option<i64>,
    pub actor_label: String,
    pub comment: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
