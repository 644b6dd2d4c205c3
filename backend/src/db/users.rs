//! Users: creation and the lookups that resolve notification parties to addresses.

use sea_orm::ActiveValue::Unchanged;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement,
};
use time::OffsetDateTime;

use super::entities::api_token;
use super::entities::user::{self, Entity as User};
use super::packed::{PackedBatch, packed_time};
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
    /// The kept pages' keys, as of this read.
    pub freshness: super::freshness::Freshness,
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
        "SELECT s.data, o.name AS organisation_name, {}, {} FROM tower_sessions s \
         LEFT JOIN users u ON u.id = s.user_id \
         LEFT JOIN organisations o ON o.id = u.organisation_id \
         WHERE s.id = {} AND s.expiry_date > {}",
        super::aliased_columns::<user::Entity>("u"),
        super::freshness::freshness_columns(backend),
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
        freshness: super::freshness::Freshness::of_row(&row)?,
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
    let mut batch = PackedBatch::default();
    let read = batch.add(invitations_statement(conn, now), INVITATION_COLUMNS);
    invitations_of(batch.run(conn).await?.take(read)?)
}

/// What the administrator's attention page reads: the open invitations
/// ([`pending_invitations`]), the newest organisation's and user's ids (the key of their
/// counts, `db::freshness::people_key`) and how many e-mails failed
/// (`db::outbox::count_failed`).
pub struct Attention {
    pub invitations: Vec<(user::Model, OffsetDateTime)>,
    pub people_key: (Option<i64>, Option<i64>),
    pub failed_emails: u64,
}

/// [`Attention`] as ONE statement (`db::packed`): the page was three besides its session.
pub async fn attention(
    conn: &impl ConnectionTrait,
    now: OffsetDateTime,
) -> Result<Attention, DbErr> {
    let backend = conn.get_database_backend();
    let mut batch = PackedBatch::default();
    let invitations = batch.add(invitations_statement(conn, now), INVITATION_COLUMNS);
    let figures = batch.add(
        Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT {}, (SELECT count(*) FROM email_outbox WHERE status = '{}') AS failed",
                *super::freshness::PEOPLE_KEY_COLUMNS,
                super::outbox::FAILED
            ),
            [],
        ),
        "organisations, users, failed",
    );
    let rows = batch.run(conn).await?;
    let (organisations, users, failed): (Option<i64>, Option<i64>, i64) = rows
        .take(figures)?
        .pop()
        .ok_or_else(|| DbErr::Custom("the attention page's figures: no row".into()))?;
    Ok(Attention {
        invitations: invitations_of(rows.take(invitations)?)?,
        people_key: (organisations, users),
        failed_emails: u64::try_from(failed).unwrap_or(0),
    })
}

/// The columns of an invitation's packed row: its user's, then the link's expiry.
const INVITATION_COLUMNS: &str = "id, email, display_name, password_hash, role, organisation_id, \
     registry, active, created_at, expires_at";

/// An invitation as a packed row carries it ([`INVITATION_COLUMNS`]; SQLite's boolean as 0 or
/// 1, times as text).
#[derive(serde::Deserialize)]
struct InvitationRow {
    id: i64,
    email: String,
    display_name: String,
    password_hash: Option<String>,
    role: String,
    organisation_id: Option<i64>,
    registry: Option<String>,
    active: i64,
    created_at: String,
    expires_at: String,
}

/// The open invitation links joined to the users who have not yet set a password, oldest link
/// first, as [`INVITATION_COLUMNS`].
fn invitations_statement(conn: &impl ConnectionTrait, now: OffsetDateTime) -> Statement {
    let backend = conn.get_database_backend();
    // The purpose and the flags are written in, and on PostgreSQL the time comes through a
    // sub-select, so that its estimates do not depend on the values: with them bound, it
    // planned the attention page's statement on every view (0.45 ms of `bind` against 0.05 of
    // `execute`, `.ci/pg-statement-profile`). SQLite keeps a boolean as 0 or 1; PostgreSQL's
    // JSON would carry `true`.
    let now_param = super::packed::batch_placeholder(backend, 1);
    let (active, now_param) = if backend == sea_orm::DatabaseBackend::Postgres {
        (
            "u.active::int",
            format!("(SELECT CAST({now_param} AS TIMESTAMPTZ))"),
        )
    } else {
        ("u.active", now_param)
    };
    Statement::from_sql_and_values(
        backend,
        format!(
            "SELECT u.id, u.email, u.display_name, u.password_hash, u.role, u.organisation_id, \
             u.registry, {active} AS active, u.created_at, t.expires_at \
             FROM auth_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.purpose = 'invitation' AND t.used_at IS NULL AND t.expires_at > {now_param} \
             AND u.password_hash IS NULL AND u.active ORDER BY t.id"
        ),
        [now.into()],
    )
}

/// The users of packed invitation rows, each once with its latest link's expiry, in the order
/// of their first link.
fn invitations_of(rows: Vec<InvitationRow>) -> Result<Vec<(user::Model, OffsetDateTime)>, DbErr> {
    let mut out: Vec<(user::Model, OffsetDateTime)> = Vec::new();
    for r in rows {
        let expires = packed_time("invitation of user", r.id, &r.expires_at)?;
        // A user invited twice shows once, with the latest link's expiry.
        if let Some(entry) = out.iter_mut().find(|(seen, _)| seen.id == r.id) {
            entry.1 = entry.1.max(expires);
            continue;
        }
        let user = user::Model {
            created_at: packed_time("user", r.id, &r.created_at)?,
            id: r.id,
            email: r.email,
            display_name: r.display_name,
            password_hash: r.password_hash,
            role: r.role,
            organisation_id: r.organisation_id,
            registry: r.registry,
            active: r.active != 0,
        };
        out.push((user, expires));
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
