//! Entity of the `users` table (schema in `migrations/`).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

// Serde: the session store hands a request's user to `web::auth` inside the loaded session
// record (`web::session_store::LoadedUser`), never stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub email: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub role: String,
    pub organisation_id: Option<i64>,
    pub registry: Option<String>,
    pub active: bool,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
