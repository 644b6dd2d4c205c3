//! Entity of the `record_changes` table (schema in `migrations/`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "record_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub subject: String,
    pub subject_id: i64,
    pub registry: String,
    pub start_addr: Option<i64>,
    pub end_addr: Option<i64>,
    pub field: String,
    pub old_value: String,
    pub new_value: String,
    pub reason: String,
    pub user_id: Option<i64>,
    pub actor_label: String,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
