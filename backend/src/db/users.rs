//! Users: creation and the lookups that resolve notification parties to addresses.

use sea_orm::ActiveValue::Unchanged;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use time::OffsetDateTime;

use super::entities::api_token;
use super::entities::user::{self, Entity as User};
use crate::domain::Rir;

/// A user's display name, by id.
pub async fn display_name(conn: &impl ConnectionTrait, id: i64) -> Result<Option<String>, DbErr> {
    Ok(User::find_by_id(id)
        .one(conn)
        .await?
        .map(|u| u.display_name))
}

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

/// A session's stored record, with its signed-in user and their organisation's name when it has
/// them: what every signed-in page needs first, in one read instead of three.
pub struct SessionRow {
    pub data: Vec<u8>,
    pub user: Option<user::Model>,
    pub organisation_name: Option<String>,
}

/// The unexpired session `id` (expiry after `now`, seconds), joined to its user and their
/// organisation.
pub async fn session_with_user(
    conn: &impl ConnectionTrait,
    id: &str,
    now: i64,
) -> Result<Option<SessionRow>, DbErr> {
    use sea_orm::{FromQueryResult, Statement};
    let backend = conn.get_database_backend();
    let placeholders = if backend == sea_orm::DatabaseBackend::Postgres {
        ("$1", "$2")
    } else {
        ("?", "?")
    };
    let sql = format!(
        "SELECT s.data, o.name AS organisation_name, {} FROM tower_sessions s \
         LEFT JOIN users u ON u.id = s.user_id \
         LEFT JOIN organisations o ON o.id = u.organisation_id \
         WHERE s.id = {} AND s.expiry_date > {}",
        super::aliased_columns::<user::Entity>("u"),
        placeholders.0,
        placeholders.1
    );
    let stmt = Statement::from_sql_and_values(backend, sql, [id.into(), now.into()]);
    let Some(row) = conn.query_one_raw(stmt).await? else {
        return Ok(None);
    };
    Ok(Some(SessionRow {
        data: row.try_get("", "data")?,
        user: user::Model::from_query_result_optional(&row, "u_")?,
        organisation_name: row.try_get("", "organisation_name")?,
    }))
}

/// The user with this id.
pub async fn by_id(conn: &impl ConnectionTrait, id: i64) -> Result<Option<user::Model>, DbErr> {
    User::find_by_id(id).one(conn).await
}

/// The user with this e-mail address (stored in lower case).
pub async fn by_email(
    conn: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<user::Model>, DbErr> {
    User::find()
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .one(conn)
        .await
}

/// The e-mail addresses of these users, by id.
pub async fn emails_of(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>, DbErr> {
    let ids: Vec<i64> = ids.into_iter().collect();
    Ok(User::find()
        .filter(super::packed::id_in_expr(
            conn.get_database_backend(),
            "id",
            &ids,
        ))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect())
}

/// Sets a user's password hash and returns the user as it is now.
pub async fn set_password(
    conn: &impl ConnectionTrait,
    id: i64,
    password_hash: String,
) -> Result<user::Model, DbErr> {
    user::ActiveModel {
        id: Unchanged(id),
        password_hash: Set(Some(password_hash)),
        ..Default::default()
    }
    .update(conn)
    .await
}

/// The first `limit` users with an id above `after`, by id (keyset pagination).
pub async fn page(
    conn: &impl ConnectionTrait,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<user::Model>, DbErr> {
    let mut page = User::find().order_by_asc(user::Column::Id).limit(limit);
    if let Some(after) = after {
        page = page.filter(user::Column::Id.gt(after));
    }
    page.all(conn).await
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

/// Accounts invited but without a password yet whose invitation link still works, with the
/// link's expiry, oldest invitation first.
pub async fn pending_invitations(
    conn: &impl ConnectionTrait,
    now: OffsetDateTime,
) -> Result<Vec<(user::Model, OffsetDateTime)>, DbErr> {
    use super::entities::auth_token;
    // One statement: the open invitations joined to the users who have not yet set a password.
    let invited = auth_token::Entity::find()
        .find_also_related(User)
        .filter(auth_token::Column::Purpose.eq("invitation"))
        .filter(auth_token::Column::UsedAt.is_null())
        .filter(auth_token::Column::ExpiresAt.gt(now))
        .filter(user::Column::PasswordHash.is_null())
        .filter(user::Column::Active.eq(true))
        .order_by_asc(auth_token::Column::Id)
        .all(conn)
        .await?;
    let mut out: Vec<(user::Model, OffsetDateTime)> = Vec::new();
    for (t, u) in invited {
        let Some(u) = u else { continue };
        // A user invited twice shows once, with the latest link's expiry.
        match out.iter_mut().find(|(seen, _)| seen.id == u.id) {
            Some(entry) => entry.1 = entry.1.max(t.expires_at),
            None => out.push((u, t.expires_at)),
        }
    }
    Ok(out)
}

/// Deactivates or reactivates an account; false when there is no user `id`.
pub async fn set_active(conn: &impl ConnectionTrait, id: i64, active: bool) -> Result<bool, DbErr> {
    use sea_orm::sea_query::Expr;
    let r = User::update_many()
        .col_expr(user::Column::Active, Expr::value(active))
        .filter(user::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Revokes every live API token of a user (their account is being deactivated).
pub async fn revoke_api_tokens(
    conn: &impl ConnectionTrait,
    user_id: i64,
    now: OffsetDateTime,
) -> Result<u64, DbErr> {
    Ok(api_token::Entity::update_many()
        .col_expr(
            api_token::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected)
}
