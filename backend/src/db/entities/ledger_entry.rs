//! Entity of the `ledger_entries` table (schema in `migrations/`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub kind: String,
    pub transfer_id: Option<i64>,
    pub transfer_reference: Option<String>,
    pub transfer_type: String,
    pub source_registry: String,
    pub recipient_registry: String,
    pub source_org_id: Option<i64>,
    pub recipient_org_id: Option<i64>,
    pub source_org_name: Option<String>,
    pub recipient_org_name: Option<String>,
    pub source_country: Option<String>,
    pub recipient_country: Option<String>,
    pub start_addr: i64,
    pub end_addr: i64,
    pub original_start: Option<i64>,
    pub original_end: Option<i64>,
    pub transfer_date: TimeDateTimeWithTimeZone,
    pub source_registration_date: Option<TimeDateTimeWithTimeZone>,
    pub recorded_at: TimeDateTimeWithTimeZone,
    pub prev_hash: String,
    #[sea_orm(unique)]
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
