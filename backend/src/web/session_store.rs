//! Sessions in the database, so several `ipxfer serve` instances share them. No published
//! tower-sessions store supports sea-orm 2 with tower-sessions 0.15 (see `docs/architecture.md`),
//! so this is the small one we keep: MessagePack records in the `tower_sessions` table, with the
//! signed-in user's id beside each (so [`crate::services::accounts::end_sessions`] can end all of
//! a user's sessions).
//!
//! Loading a session also reads its user and their organisation's name in the same statement
//! (`db::users::session_with_user`): every signed-in page needs them, and each statement costs a
//! round trip to the database's worker thread. So are the keys of the kept pages
//! (`db::freshness::Freshness`, `web::cache`), so that a view of a kept page costs no statement
//! besides the session's. They travel to `web::auth` in the loaded record under
//! [`LOADED_USER_KEY`], which is removed before a record is ever stored.

use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion};

use crate::db::entities::session::{self, Entity as SessionRow};
use crate::db::entities::user;
use crate::db::users;

/// The session key of the signed-in user's id (also copied into the `user_id` column).
pub const USER_KEY: &str = "user_id";
/// The record key of the user read with the session ([`LoadedUser`]); never stored.
pub const LOADED_USER_KEY: &str = "__loaded_user";

/// The session's user as read with it, and their organisation's name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadedUser {
    pub user: user::Model,
    pub organisation_name: Option<String>,
    /// The kept pages' keys as of the session's read (`web::cache`).
    pub freshness: crate::db::freshness::Freshness,
}

/// A tower-sessions store on the application's own database connection.
#[derive(Debug, Clone)]
pub struct SeaOrmStore {
    db: DatabaseConnection,
}

impl SeaOrmStore {
    pub fn new(db: DatabaseConnection) -> Self {
        SeaOrmStore { db }
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// The record as stored: without the user that `load` attached.
fn encode(r: &Record) -> session_store::Result<Vec<u8>> {
    let encoded = if r.data.contains_key(LOADED_USER_KEY) {
        let mut stored = r.clone();
        stored.data.remove(LOADED_USER_KEY);
        rmp_serde::to_vec(&stored)
    } else {
        rmp_serde::to_vec(r)
    };
    encoded.map_err(|e| session_store::Error::Encode(e.to_string()))
}

fn user_of(r: &Record) -> Option<i64> {
    r.data.get(USER_KEY).and_then(serde_json::Value::as_i64)
}

fn to_row(r: &Record) -> session_store::Result<session::ActiveModel> {
    Ok(session::ActiveModel {
        id: Set(r.id.to_string()),
        data: Set(encode(r)?),
        expiry_date: Set(r.expiry_date.unix_timestamp()),
        user_id: Set(user_of(r)),
    })
}

#[async_trait]
impl SessionStore for SeaOrmStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A colliding id (vanishingly unlikely with 128 random bits) gets a fresh one.
        loop {
            let inserted = SessionRow::insert(to_row(record)?)
                .on_conflict(
                    OnConflict::column(session::Column::Id)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&self.db)
                .await
                .map_err(backend)?;
            if inserted == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    /// Updates a session that exists. tower-sessions calls `save` only for a record it loaded
    /// (new ones go through `create`), so a missing row was deleted meanwhile: signed out, or
    /// ended by a password reset or a deactivation while this request held it. It stays gone;
    /// an upsert would bring it back.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        SessionRow::update_many()
            .col_expr(session::Column::Data, Expr::value(encode(record)?))
            .col_expr(
                session::Column::ExpiryDate,
                Expr::value(record.expiry_date.unix_timestamp()),
            )
            .col_expr(session::Column::UserId, Expr::value(user_of(record)))
            .filter(session::Column::Id.eq(record.id.to_string()))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let Some(row) = users::session_with_user(&self.db, &id.to_string(), now)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let mut record: Record = rmp_serde::from_slice(&row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        // Only what this read found travels under the key, whatever a stored record holds.
        record.data.remove(LOADED_USER_KEY);
        if let Some(user) = row.user {
            let loaded = LoadedUser {
                user,
                organisation_name: row.organisation_name,
                freshness: row.freshness,
            };
            let value = serde_json::to_value(loaded)
                .map_err(|e| session_store::Error::Encode(e.to_string()))?;
            record.data.insert(LOADED_USER_KEY.to_owned(), value);
        }
        Ok(Some(record))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        SessionRow::delete_by_id(id.to_string())
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for SeaOrmStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        SessionRow::delete_many()
            .filter(session::Column::ExpiryDate.lte(now))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
