//! Entity of the `transfers` table (schema in `migrations/`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
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
    pub deadline: Option<TimeDateTimeWithTimeZone>,
    pub fees_confirmed_by: Option<i64>,
    pub first_finalizer_id: Option<i64>,
    pub filed_by: Option<i64>,
    pub filed_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
    pub completed_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
