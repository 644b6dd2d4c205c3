//! Users: creation and the lookups that resolve notification parties to addresses.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use time::OffsetDateTime;

use super::entities::user::{self, Entity as User};
use crate::domain::Rir;

/// A user to create.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    /// `member`, `hostmaster`, `auditor` or `admin`.
    pub role: &'a str,
    pub organisation_id: Option<i64>,
    pub registry: Option<Rir>,
    pub password_hash: Option<String>,
}

/// Inserts a user and returns it.
pub async fn insert(
    conn: &impl ConnectionTrait,
    u: NewUser<'_>,
    now: OffsetDateTime,
) -> Result<user::Model, DbErr> {
    user::ActiveModel {
        email: Set(u.email.to_lowercase()),
        display_name: Set(u.display_name.to_owned()),
        password_hash: Set(u.password_hash),
        role: Set(u.role.to_owned()),
        organisation_id: Set(u.organisation_id),
        registry: Set(u.registry.map(|r| r.token().to_owned())),
        active: Set(true),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
}

/// Active members of an organisation.
pub async fn members_of(
    conn: &impl ConnectionTrait,
    org_id: i64,
) -> Result<Vec<user::Model>, DbErr> {
    User::find()
        .filter(user::Column::Role.eq("member"))
        .filter(user::Column::OrganisationId.eq(org_id))
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Id)
        .all(conn)
        .await
}

/// Active hostmasters of a registry.
pub async fn hostmasters_of(
    conn: &impl ConnectionTrait,
    registry: Rir,
) -> Result<Vec<user::Model>, DbErr> {
    User::find()
        .filter(user::Column::Role.eq("hostmaster"))
        .filter(user::Column::Registry.eq(registry.token()))
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Id)
        .all(conn)
        .await
}
