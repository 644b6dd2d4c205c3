//! Entity of the `tlog_witnesses` table (schema in `migrations/`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tlog_witnesses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub vkey: String,
    pub tree_size: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
