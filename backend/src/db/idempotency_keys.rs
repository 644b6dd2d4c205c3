//! The JSON API's idempotency keys as stored: one row per (token, key), claimed before its
//! request runs and completed with the request's answer. The rules (expiry, replay, conflict)
//! live in `services::idempotency`.

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use time::OffsetDateTime;

use super::entities::api_idempotency_key as key_row;

/// Deletes a token's key if it was claimed before `before` (it has expired).
pub async fn forget_if_older(
    conn: &impl ConnectionTrait,
    token_id: i64,
    key: &str,
    before: OffsetDateTime,
) -> Result<(), DbErr> {
    key_row::Entity::delete_many()
        .filter(key_row::Column::TokenId.eq(token_id))
        .filter(key_row::Column::Key.eq(key))
        .filter(key_row::Column::CreatedAt.lt(before))
        .exec(conn)
        .await?;
    Ok(())
}

/// Inserts the claim of a token's key unless the key is claimed already (the unique (token,
/// key) index decides, so two racing claims cannot both insert); true when this one did.
pub async fn insert_if_new(
    conn: &impl ConnectionTrait,
    token_id: i64,
    key: &str,
    request_hash: &str,
    now: OffsetDateTime,
) -> Result<bool, DbErr> {
    let inserted = key_row::Entity::insert(key_row::ActiveModel {
        token_id: Set(token_id),
        key: Set(key.to_owned()),
        request_hash: Set(request_hash.to_owned()),
        status: Set(None),
        content_type: Set(None),
        body: Set(None),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([key_row::Column::TokenId, key_row::Column::Key])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(inserted == 1)
}

/// The claim of a token's key.
pub async fn find(
    conn: &impl ConnectionTrait,
    token_id: i64,
    key: &str,
) -> Result<Option<key_row::Model>, DbErr> {
    key_row::Entity::find()
        .filter(key_row::Column::TokenId.eq(token_id))
        .filter(key_row::Column::Key.eq(key))
        .one(conn)
        .await
}

/// Stores the answer of a claimed request; false when the claim is gone.
pub async fn store_answer(
    conn: &impl ConnectionTrait,
    id: i64,
    status: i32,
    content_type: &str,
    body: &str,
) -> Result<bool, DbErr> {
    let Some(row) = key_row::Entity::find_by_id(id).one(conn).await? else {
        return Ok(false);
    };
    let mut row: key_row::ActiveModel = row.into();
    row.status = Set(Some(status));
    row.content_type = Set(Some(content_type.to_owned()));
    row.body = Set(Some(body.to_owned()));
    row.update(conn).await?;
    Ok(true)
}

/// Deletes a claim.
pub async fn delete(conn: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    key_row::Entity::delete_by_id(id).exec(conn).await?;
    Ok(())
}

/// Deletes every key claimed before `before`; returns how many went.
pub async fn delete_older(
    conn: &impl ConnectionTrait,
    before: OffsetDateTime,
) -> Result<u64, DbErr> {
    Ok(key_row::Entity::delete_many()
        .filter(key_row::Column::CreatedAt.lt(before))
        .exec(conn)
        .await?
        .rows_affected)
}
