//! Accounts: password hashing (argon2id), sign-in with throttling and without user enumeration,
//! invitations and password resets by single-use e-mailed tokens.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set, TransactionTrait,
};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::db::entities::{auth_token, login_attempt, session, user};
use crate::db::outbox;
use crate::db::users::{self as users_db, NewUser};
use crate::domain::Rir;
use crate::domain::authz::{Actor, Role};
use crate::error::{AppError, AppResult};
use crate::services::notifications::{self, AccountEmail};

/// Failed sign-ins per address within [`THROTTLE_WINDOW`] before further attempts are refused.
pub const MAX_FAILED_LOGINS: u64 = 5;
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
pub const MIN_PASSWORD_LEN: usize = 12;
pub const MAX_PASSWORD_LEN: usize = 128;
pub const INVITATION_TTL: Duration = Duration::days(7);
pub const RESET_TTL: Duration = Duration::hours(2);

/// What a single-use token is for (the `purpose` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    Invitation,
    PasswordReset,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::Invitation => "invitation",
            TokenPurpose::PasswordReset => "password_reset",
        }
    }
}

/// An argon2id hash in PHC form.
pub fn hash_password(password: &str) -> AppResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing a password: {e}")))
}

/// Whether `password` matches a stored PHC hash; a malformed hash never matches.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A new password must be long enough to resist guessing and short enough to hash cheaply.
pub fn check_new_password(password: &str, confirmation: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(format!(
            "Choose a password of at least {MIN_PASSWORD_LEN} characters"
        ));
    }
    if len > MAX_PASSWORD_LEN {
        return Err(format!(
            "Choose a password of at most {MAX_PASSWORD_LEN} characters"
        ));
    }
    if password != confirmation {
        return Err("The two passwords are not the same".to_owned());
    }
    Ok(())
}

/// The actor a user acts as. An inactive user, or a row whose role does not fit its columns,
/// is anonymous: it may do nothing.
pub fn actor_of(u: &user::Model) -> Actor {
    let role = match (u.active, u.role.as_str()) {
        (false, _) => Role::Anonymous,
        (true, "member") => u
            .organisation_id
            .map_or(Role::Anonymous, |org_id| Role::Member { org_id }),
        (true, "hostmaster") => u
            .registry
            .as_deref()
            .and_then(Rir::from_token)
            .map_or(Role::Anonymous, |registry| Role::Hostmaster { registry }),
        (true, "auditor") => Role::Auditor,
        (true, "admin") => Role::Admin,
        _ => Role::Anonymous,
    };
    Actor {
        user_id: (role != Role::Anonymous).then_some(u.id),
        role,
    }
}

/// Deletes expired sessions and sign-in attempts older than a day (the throttle looks back
/// [`THROTTLE_WINDOW`]); returns how many rows went. The scheduler runs it every minute.
pub async fn prune(db: &DatabaseConnection, now: OffsetDateTime) -> AppResult<u64> {
    let sessions = session::Entity::delete_many()
        .filter(session::Column::ExpiryDate.lte(now.unix_timestamp()))
        .exec(db)
        .await?;
    let attempts = login_attempt::Entity::delete_many()
        .filter(login_attempt::Column::AttemptedAt.lt(now - Duration::days(1)))
        .exec(db)
        .await?;
    Ok(sessions.rows_affected + attempts.rows_affected)
}

/// The one message for every failed sign-in, so nobody learns which addresses have accounts.
pub const SIGN_IN_FAILED: &str = "The e-mail address or the password is not right";

/// Checks an e-mail address and password. Every attempt is recorded; after
/// [`MAX_FAILED_LOGINS`] failures in [`THROTTLE_WINDOW`] the address is refused for a while,
/// whether or not it has an account. Unknown addresses cost the same hashing time as known ones.
pub async fn authenticate(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
    now: OffsetDateTime,
) -> AppResult<user::Model> {
    let email = email.trim().to_lowercase();
    let recent_failures = login_attempt::Entity::find()
        .filter(login_attempt::Column::Email.eq(&email))
        .filter(login_attempt::Column::Succeeded.eq(false))
        .filter(login_attempt::Column::AttemptedAt.gt(now - THROTTLE_WINDOW))
        .count(db)
        .await?;
    if recent_failures >= MAX_FAILED_LOGINS {
        return Err(AppError::Throttled(format!(
            "Too many failed sign-ins for this address. Wait {} minutes, or reset the password.",
            THROTTLE_WINDOW.whole_minutes()
        )));
    }
    let found = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(db)
        .await?;
    let ok = match &found {
        Some(u) if u.active => u
            .password_hash
            .as_deref()
            .is_some_and(|h| verify_password(h, password)),
        _ => {
            // Spend the time a real check takes, so timing does not tell accounts apart.
            verify_password(dummy_hash(), password);
            false
        }
    };
    login_attempt::ActiveModel {
        email: Set(email),
        succeeded: Set(ok),
        attempted_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    match found {
        Some(u) if ok => Ok(u),
        _ => Err(AppError::invalid(SIGN_IN_FAILED)),
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a password anyone has").unwrap_or_default())
}

/// A fresh 256-bit token from the operating system's CSPRNG (tower-sessions' ids are 128-bit
/// random values from it; two of them avoid another randomness dependency).
fn new_token() -> String {
    use tower_sessions::session::Id;
    format!("{}{}", Id::default(), Id::default())
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Stores the hash of a new single-use token for a user and returns its row id and the token
/// itself, which only ever travels in the e-mail.
async fn issue_token(
    conn: &impl ConnectionTrait,
    user_id: i64,
    purpose: TokenPurpose,
    ttl: Duration,
    now: OffsetDateTime,
) -> AppResult<(i64, String)> {
    let token = new_token();
    let row = auth_token::ActiveModel {
        user_id: Set(user_id),
        purpose: Set(purpose.as_str().to_owned()),
        token_hash: Set(token_hash(&token)),
        expires_at: Set(now + ttl),
        used_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok((row.id, token))
}

/// The user a token would act for, if it is still good (for showing the set-password form).
pub async fn token_user(
    db: &DatabaseConnection,
    token: &str,
    purpose: TokenPurpose,
    now: OffsetDateTime,
) -> AppResult<user::Model> {
    let row = valid_token(db, token, purpose, now).await?;
    user::Entity::find_by_id(row.user_id)
        .one(db)
        .await?
        .ok_or_else(expired_link)
}

fn expired_link() -> AppError {
    AppError::invalid(
        "This link has expired or was already used. Ask for a new one from the sign-in page.",
    )
}

async fn valid_token(
    conn: &impl ConnectionTrait,
    token: &str,
    purpose: TokenPurpose,
    now: OffsetDateTime,
) -> AppResult<auth_token::Model> {
    auth_token::Entity::find()
        .filter(auth_token::Column::TokenHash.eq(token_hash(token)))
        .filter(auth_token::Column::Purpose.eq(purpose.as_str()))
        .filter(auth_token::Column::UsedAt.is_null())
        .filter(auth_token::Column::ExpiresAt.gt(now))
        .one(conn)
        .await?
        .ok_or_else(expired_link)
}

/// Sets a new password through an invitation or reset token, using the token up. The user's
/// other unused tokens of the same purpose stop working too.
pub async fn redeem_token(
    db: &DatabaseConnection,
    token: &str,
    purpose: TokenPurpose,
    new_password: &str,
    now: OffsetDateTime,
) -> AppResult<user::Model> {
    let hash = hash_password(new_password)?;
    let txn = db.begin().await?;
    let row = valid_token(&txn, token, purpose, now).await?;
    // Claim the token: a second redemption racing this one updates no row and fails.
    let claimed = auth_token::Entity::update_many()
        .col_expr(
            auth_token::Column::UsedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(auth_token::Column::UserId.eq(row.user_id))
        .filter(auth_token::Column::Purpose.eq(purpose.as_str()))
        .filter(auth_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        return Err(expired_link());
    }
    let u = user::Entity::find_by_id(row.user_id)
        .one(&txn)
        .await?
        .ok_or_else(expired_link)?;
    let mut active: user::ActiveModel = u.into();
    active.password_hash = Set(Some(hash));
    let u = active.update(&txn).await?;
    txn.commit().await?;
    Ok(u)
}

/// A new account to invite.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub email: String,
    pub display_name: String,
    /// `member`, `hostmaster`, `auditor` or `admin`.
    pub role: String,
    pub organisation_id: Option<i64>,
    pub registry: Option<Rir>,
}

/// Checks an invitation form; returns the problems per field.
pub fn check_invitation(inv: &Invitation) -> Vec<(&'static str, String)> {
    let mut errors = Vec::new();
    let email = inv.email.trim();
    if email.is_empty() || email.len() > 254 || !email.contains('@') || email.contains(' ') {
        errors.push((
            "email",
            "Enter an e-mail address like name@example.net".into(),
        ));
    }
    if inv.display_name.trim().is_empty() || inv.display_name.len() > 120 {
        errors.push((
            "display_name",
            "Enter the person's name (up to 120 characters)".into(),
        ));
    }
    match inv.role.as_str() {
        "member" if inv.organisation_id.is_none() => {
            errors.push(("organisation_id", "Choose the member's organisation".into()));
        }
        "hostmaster" if inv.registry.is_none() => {
            errors.push(("registry", "Choose the hostmaster's registry".into()));
        }
        "member" | "hostmaster" | "auditor" | "admin" => {}
        _ => errors.push(("role", "Choose a role".into())),
    }
    errors
}

/// Creates an account without a password and e-mails its holder a link to choose one, in one
/// transaction. The caller has checked the actor may manage users.
pub async fn invite(
    db: &DatabaseConnection,
    inv: &Invitation,
    base_url: &str,
    now: OffsetDateTime,
) -> AppResult<user::Model> {
    invite_with_link(db, inv, base_url, now)
        .await
        .map(|(u, _)| u)
}

/// [`invite`], also returning the link the e-mail carries (`ipxfer user add` prints it for an
/// operator without a mail server yet).
pub async fn invite_with_link(
    db: &DatabaseConnection,
    inv: &Invitation,
    base_url: &str,
    now: OffsetDateTime,
) -> AppResult<(user::Model, String)> {
    let txn = db.begin().await?;
    let u = insert_account(&txn, inv, None, now).await?;
    let (token_id, token) =
        issue_token(&txn, u.id, TokenPurpose::Invitation, INVITATION_TTL, now).await?;
    let link = format!("{}/invitation/{token}", base_url.trim_end_matches('/'));
    let mail = notifications::invitation(&AccountEmail {
        to: &u.email,
        display_name: &u.display_name,
        link: &link,
        expires_at: now + INVITATION_TTL,
        token_id,
    })?;
    outbox::enqueue(&txn, &[mail], now).await?;
    txn.commit().await?;
    Ok((u, link))
}

/// Creates an account with a password chosen by the operator (`ipxfer user add
/// --password-stdin`), checked like any new password. No e-mail is sent.
pub async fn create_with_password(
    db: &DatabaseConnection,
    inv: &Invitation,
    password: &str,
    now: OffsetDateTime,
) -> AppResult<user::Model> {
    let problems = check_invitation(inv);
    if let Some((_, message)) = problems.first() {
        return Err(AppError::invalid(message.clone()));
    }
    check_new_password(password, password).map_err(AppError::Invalid)?;
    let hash = hash_password(password)?;
    let txn = db.begin().await?;
    let u = insert_account(&txn, inv, Some(hash), now).await?;
    txn.commit().await?;
    Ok(u)
}

/// Inserts the account of an invitation unless its address already has one.
async fn insert_account(
    conn: &impl ConnectionTrait,
    inv: &Invitation,
    password_hash: Option<String>,
    now: OffsetDateTime,
) -> AppResult<user::Model> {
    let email = inv.email.trim().to_lowercase();
    let taken = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .count(conn)
        .await?;
    if taken > 0 {
        return Err(AppError::invalid(format!("{email} already has an account")));
    }
    Ok(users_db::insert(
        conn,
        NewUser {
            email: &email,
            display_name: inv.display_name.trim(),
            role: &inv.role,
            organisation_id: inv.organisation_id.filter(|_| inv.role == "member"),
            registry: inv.registry.filter(|_| inv.role == "hostmaster"),
            password_hash,
        },
        now,
    )
    .await?)
}

/// Starts a password reset: an active account gets an e-mail with a link; any other address
/// gets nothing, and the caller shows the same page either way.
pub async fn request_password_reset(
    db: &DatabaseConnection,
    email: &str,
    base_url: &str,
    now: OffsetDateTime,
) -> AppResult<()> {
    let email = email.trim().to_lowercase();
    let txn = db.begin().await?;
    let Some(u) = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .filter(user::Column::Active.eq(true))
        .one(&txn)
        .await?
    else {
        return Ok(());
    };
    let (token_id, token) =
        issue_token(&txn, u.id, TokenPurpose::PasswordReset, RESET_TTL, now).await?;
    let link = format!("{}/password-reset/{token}", base_url.trim_end_matches('/'));
    let mail = notifications::password_reset(&AccountEmail {
        to: &u.email,
        display_name: &u.display_name,
        link: &link,
        expires_at: now + RESET_TTL,
        token_id,
    })?;
    outbox::enqueue(&txn, &[mail], now).await?;
    txn.commit().await?;
    Ok(())
}
