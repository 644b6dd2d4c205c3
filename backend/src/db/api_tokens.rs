//! API tokens as stored: only the SHA-256 of a secret, its scopes as words, its expiry and who
//! revoked it. The service decides who may create or revoke; these functions only store and read.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use time::OffsetDateTime;

use super::entities::api_token;

/// A token to store: its secret is already hashed.
pub struct NewApiToken<'a> {
    pub user_id: i64,
    pub name: &'a str,
    /// The first characters of the secret, which lists show to tell tokens apart.
    pub prefix: String,
    pub token_hash: String,
    /// Scope names separated by spaces.
    pub scopes: String,
    pub expires_at: OffsetDateTime,
}

/// Inserts a token and returns its row.
pub async fn insert(
    conn: &impl ConnectionTrait,
    t: NewApiToken<'_>,
    now: OffsetDateTime,
) -> Result<api_token::Model, DbErr> {
    api_token::ActiveModel {
        user_id: Set(t.user_id),
        name: Set(t.name.to_owned()),
        prefix: Set(t.prefix),
        token_hash: Set(t.token_hash),
        scopes: Set(t.scopes),
        created_at: Set(now),
        expires_at: Set(t.expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        revoked_by: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await
}

/// The token with this id.
pub async fn by_id(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<api_token::Model>, DbErr> {
    api_token::Entity::find_by_id(id).one(conn).await
}

/// The token whose secret has this hash.
pub async fn by_hash(
    conn: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<api_token::Model>, DbErr> {
    api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash))
        .one(conn)
        .await
}

/// A user's tokens, newest first.
pub async fn of_user(
    conn: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Vec<api_token::Model>, DbErr> {
    api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .order_by_desc(api_token::Column::Id)
        .all(conn)
        .await
}

/// Every token neither revoked nor expired at `now`, newest first.
pub async fn live(
    conn: &impl ConnectionTrait,
    now: OffsetDateTime,
) -> Result<Vec<api_token::Model>, DbErr> {
    api_token::Entity::find()
        .filter(api_token::Column::RevokedAt.is_null())
        .filter(api_token::Column::ExpiresAt.gt(now))
        .order_by_desc(api_token::Column::Id)
        .all(conn)
        .await
}

/// Marks a token revoked at `now` by `by` (none for the operator on the command line) and
/// returns its row as it is now.
pub async fn revoke(
    conn: &impl ConnectionTrait,
    row: api_token::Model,
    by: Option<i64>,
    now: OffsetDateTime,
) -> Result<api_token::Model, DbErr> {
    let mut active: api_token::ActiveModel = row.into();
    active.revoked_at = Set(Some(now));
    active.revoked_by = Set(by);
    active.update(conn).await
}

/// Notes that a token was used at `now`.
pub async fn touch(conn: &impl ConnectionTrait, id: i64, now: OffsetDateTime) -> Result<(), DbErr> {
    api_token::Entity::update_many()
        .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
        .filter(api_token::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}
