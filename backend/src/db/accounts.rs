//! What signing in leaves behind: sign-in attempts (which the throttle counts), sessions, and
//! the single-use tokens of invitations and password resets (stored as their hash). The
//! accounts service decides; these functions store, count and delete, in the caller's
//! connection or transaction.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, Set,
};
use time::OffsetDateTime;

use super::entities::{auth_token, login_attempt, session};

/// Records a sign-in attempt; `client` is the throttle's key for the client's address.
pub async fn record_attempt(
    conn: &impl ConnectionTrait,
    email: String,
    succeeded: bool,
    client: Option<String>,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    login_attempt::ActiveModel {
        email: Set(email),
        succeeded: Set(succeeded),
        attempted_at: Set(now),
        client_addr: Set(client),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Which sign-in attempts to count.
pub struct Attempts<'a> {
    pub succeeded: bool,
    /// Only those after this instant.
    pub after: OffsetDateTime,
    /// Only those for this (lower-case) address; none for every address.
    pub email: Option<&'a str>,
    /// Only those from this client: `Some(None)` is attempts whose address was not known;
    /// none for every client.
    pub client: Option<Option<&'a str>>,
}

/// How many sign-in attempts match.
pub async fn count_attempts(conn: &impl ConnectionTrait, a: Attempts<'_>) -> Result<u64, DbErr> {
    let mut q = login_attempt::Entity::find()
        .filter(login_attempt::Column::Succeeded.eq(a.succeeded))
        .filter(login_attempt::Column::AttemptedAt.gt(a.after));
    if let Some(email) = a.email {
        q = q.filter(login_attempt::Column::Email.eq(email));
    }
    q = match a.client {
        Some(Some(c)) => q.filter(login_attempt::Column::ClientAddr.eq(c)),
        Some(None) => q.filter(login_attempt::Column::ClientAddr.is_null()),
        None => q,
    };
    q.count(conn).await
}

/// Deletes the sessions expired at `now` and the sign-in attempts before `attempts_before`;
/// returns how many rows went.
pub async fn prune(
    conn: &impl ConnectionTrait,
    now: OffsetDateTime,
    attempts_before: OffsetDateTime,
) -> Result<u64, DbErr> {
    let sessions = session::Entity::delete_many()
        .filter(session::Column::ExpiryDate.lte(now.unix_timestamp()))
        .exec(conn)
        .await?;
    let attempts = login_attempt::Entity::delete_many()
        .filter(login_attempt::Column::AttemptedAt.lt(attempts_before))
        .exec(conn)
        .await?;
    Ok(sessions.rows_affected + attempts.rows_affected)
}

/// Deletes every session of a user; returns how many there were.
pub async fn end_sessions(conn: &impl ConnectionTrait, user_id: i64) -> Result<u64, DbErr> {
    let r = session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    Ok(r.rows_affected)
}

/// Stores the hash of a new single-use token (`purpose`: `invitation` or `password_reset`);
/// returns its id.
pub async fn insert_token(
    conn: &impl ConnectionTrait,
    user_id: i64,
    purpose: &str,
    token_hash: String,
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<i64, DbErr> {
    let row = auth_token::ActiveModel {
        user_id: Set(user_id),
        purpose: Set(purpose.to_owned()),
        token_hash: Set(token_hash),
        expires_at: Set(expires_at),
        used_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row.id)
}

/// The unused, unexpired token of this purpose with this hash.
pub async fn valid_token(
    conn: &impl ConnectionTrait,
    token_hash: &str,
    purpose: &str,
    now: OffsetDateTime,
) -> Result<Option<auth_token::Model>, DbErr> {
    auth_token::Entity::find()
        .filter(auth_token::Column::TokenHash.eq(token_hash))
        .filter(auth_token::Column::Purpose.eq(purpose))
        .filter(auth_token::Column::UsedAt.is_null())
        .filter(auth_token::Column::ExpiresAt.gt(now))
        .one(conn)
        .await
}

/// Marks every unused token of this purpose of a user used at `now`; returns how many were.
/// Two redemptions racing each other: the second claims none.
pub async fn use_tokens(
    conn: &impl ConnectionTrait,
    user_id: i64,
    purpose: &str,
    now: OffsetDateTime,
) -> Result<u64, DbErr> {
    let r = auth_token::Entity::update_many()
        .col_expr(auth_token::Column::UsedAt, Expr::value(now))
        .filter(auth_token::Column::UserId.eq(user_id))
        .filter(auth_token::Column::Purpose.eq(purpose))
        .filter(auth_token::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(r.rows_affected)
}

/// How many tokens of this purpose a user was issued after `after`.
pub async fn count_tokens_since(
    conn: &impl ConnectionTrait,
    user_id: i64,
    purpose: &str,
    after: OffsetDateTime,
) -> Result<u64, DbErr> {
    auth_token::Entity::find()
        .filter(auth_token::Column::UserId.eq(user_id))
        .filter(auth_token::Column::Purpose.eq(purpose))
        .filter(auth_token::Column::CreatedAt.gt(after))
        .count(conn)
        .await
}
