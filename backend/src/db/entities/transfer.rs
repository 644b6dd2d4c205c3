//! Entity of the `transfers` table (schema in `migrations/`).

use sea_orm::entity::prelude::*;

/// `Deserialize` reads a row packed as a JSON array of the columns in this order, as SQLite's
/// `json_array` writes it (`db::transfers::transfers_selected`): times as RFC 3339 text.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "transfers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub reference: String,
    pub kind: String,
    pub source_org_id: i64,
    pub recipient_org_id: i64,
    pub source_registry: String,
    pub recipient_registry: String,
    pub state: String,
    pub state_data: Option<String>,
    pub version: i64,
    pub agreed_price: Option<String>,
    pub price_currency: Option<String>,
    pub need_text: Option<String>,
    pub need_horizon_months: Option<i32>,
    pub need_utilisation_percent: Option<i32>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub deadline: Option<TimeDateTimeWithTimeZone>,
    pub fees_confirmed_by: Option<i64>,
    pub first_finalizer_id: Option<i64>,
    pub filed_by: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub filed_at: TimeDateTimeWithTimeZone,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: TimeDateTimeWithTimeZone,
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
