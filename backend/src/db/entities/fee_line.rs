//! Entity of the `fee_lines` table (schema in `migrations/`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fee_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub transfer_id: i64,
    pub registry: String,
    pub payer: String,
    pub description: String,
    pub amount: String,
    pub currency: String,
    pub confirmed: bool,
    pub paid_by: Option<i64>,
    pub paid_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
