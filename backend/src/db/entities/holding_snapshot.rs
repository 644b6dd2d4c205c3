//! Entity of the `holding_snapshot` table (schema in `migrations/`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "holding_snapshot")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub registry: String,
    pub organisation_id: i64,
    pub start_addr: i64,
    pub end_addr: i64,
    pub status: String,
    pub origin: String,
    pub registered_on: Option<TimeDate>,
    pub received_on: Option<TimeDate>,
    pub country: Option<String>,
    pub restrictions: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
