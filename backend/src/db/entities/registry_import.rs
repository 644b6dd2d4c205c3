//! Entity of the `registry_imports` table (schema in `migrations/`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "registry_imports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub registry: String,
    pub file_sha256: String,
    pub serial: String,
    pub file_date: Option<TimeDate>,
    pub records: i64,
    pub imported_at: TimeDateTimeWithTimeZone,
    pub format_version: Option<String>,
    pub utc_offset: Option<String>,
    pub notes: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
