//! Accounts: password hashing (argon2id), sign-in with throttling and without user enumeration,
//! invitations and password resets by single-use e-mailed tokens, and ending every session of an
//! account when its password is reset or it is deactivated.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use time::{Duration, OffsetDateTime};

use crate::db::accounts::{self as accounts_db, Attempts};
use crate::db::entities::{auth_token, user};
use crate::db::outbox;
use crate::db::users::{self as users_db, NewUser};
use crate::domain::Rir;
use crate::domain::authz::{AccountRole, Actor, Role};
use crate::domain::transfer::{OrgId, UserId};
use crate::error::{AppError, AppResult};
use crate::services::notifications::{self, AccountEmail};

/// The user behind an actor, for the timeline ("Ana Lima (ARIN hostmaster)").
pub(crate) async fn actor_label(
    conn: &impl ConnectionTrait,
    actor: &Actor,
) -> AppResult<(i64, String)> {
    let id = actor
        .user_id
        .ok_or_else(|| AppError::Forbidden("sign in first".into()))?;
    let name = users_db::display_name(conn, id.get())
        .await?
        .ok_or_else(|| AppError::Forbidden("unknown user".into()))?;
    let role = match actor.role {
        Role::Member { .. } => "member".to_owned(),
        Role::Hostmaster { registry } => format!("{registry} hostmaster"),
        Role::Auditor => "auditor".to_owned(),
        Role::Admin => "admin".to_owned(),
        Role::Anonymous => "anonymous".to_owned(),
    };
    Ok((id.get(), format!("{name} ({role})")))
}

/// Failed sign-ins to one account from one client address within [`THROTTLE_WINDOW`] before
/// that address may not try that account for a while. Someone else's failures, from another
/// address, do not count against the owner.
pub const MAX_FAILED_LOGINS: u64 = 5;
/// Failed sign-ins from one client address, to any accounts, within [`THROTTLE_WINDOW`] before
/// the address may not sign in at all for a while: spraying one password across many accounts
/// is slowed to this many guesses per window.
pub const MAX_FAILED_PER_ADDRESS: u64 = 20;
/// Failed sign-ins to one account from all addresses within [`THROTTLE_WINDOW`] before addresses
/// that have not signed in to it successfully within a day are refused: a guessing attack
/// spread over many addresses is bounded, and the owner's own address still gets in.
pub const MAX_FAILED_PER_ACCOUNT: u64 = 100;
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
/// Password-reset e-mails one account gets within [`RESET_WINDOW`]; more requests are answered
/// the same but send nothing, so nobody can flood a mailbox through the form.
pub const MAX_RESETS_PER_WINDOW: u64 = 3;
pub const RESET_WINDOW: Duration = Duration::hours(1);
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
            .map_or(Role::Anonymous, |org_id| Role::Member {
                org_id: OrgId(org_id),
            }),
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
        user_id: (role != Role::Anonymous).then_some(UserId(u.id)),
        role,
    }
}

/// Deletes expired sessions and sign-in attempts older than a day (the throttle looks back
/// [`THROTTLE_WINDOW`]); returns how many rows went. The scheduler runs it every minute.
pub async fn prune(db: &DatabaseConnection, now: OffsetDateTime) -> AppResult<u64> {
    Ok(accounts_db::prune(db, now, now - Duration::days(1)).await?)
}

/// The one message for every failed sign-in, so nobody learns which addresses have accounts.
pub const SIGN_IN_FAILED: &str = "The e-mail address or the password is not right";

/// The password of [`dummy_hash`]; it opens no account, as [`hash_to_check`] never lets the
/// dummy hash succeed.
pub const DUMMY_PASSWORD: &str = "not a password anyone has";

/// A hash to spend the time of a real check on, for addresses without a usable password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(DUMMY_PASSWORD).unwrap_or_default())
}

/// The hash a sign-in is checked against and whether a match may succeed. An unknown address,
/// an inactive account and an invited account without a password yet are all checked against
/// the dummy hash, so each costs the time of a real check and timing tells none of them apart.
pub fn hash_to_check(found: Option<&user::Model>) -> (&str, bool) {
    match found {
        Some(user::Model {
            active: true,
            password_hash: Some(h),
            ..
        }) => (h.as_str(), true),
        _ => (dummy_hash(), false),
    }
}

fn too_many(whose: &str) -> AppError {
    AppError::Throttled(format!(
        "Too many failed sign-ins {whose}. Wait {} minutes, or reset the password.",
        THROTTLE_WINDOW.whole_minutes()
    ))
}

/// What the throttle counts a client address as: an IPv4 address itself, an IPv6 address by its
/// /64 (one subscriber's network, in which anyone has addresses to spare).
fn throttle_key(client: IpAddr) -> String {
    match client.to_canonical() {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => {
            let network = u128::from(a) & !((1u128 << 64) - 1);
            format!("{}/64", std::net::Ipv6Addr::from(network))
        }
    }
}

/// Refuses a sign-in while failures are over one of the limits (see [`MAX_FAILED_LOGINS`],
/// [`MAX_FAILED_PER_ADDRESS`], [`MAX_FAILED_PER_ACCOUNT`]).
async fn check_throttle(
    db: &DatabaseConnection,
    email: &str,
    client: Option<&str>,
    now: OffsetDateTime,
) -> AppResult<()> {
    let failures = |email, client| Attempts {
        succeeded: false,
        after: now - THROTTLE_WINDOW,
        email,
        client,
    };
    let this_account_here =
        accounts_db::count_attempts(db, failures(Some(email), Some(client))).await?;
    if this_account_here >= MAX_FAILED_LOGINS {
        return Err(too_many("for this e-mail address from your network"));
    }
    if client.is_some()
        && accounts_db::count_attempts(db, failures(None, Some(client))).await?
            >= MAX_FAILED_PER_ADDRESS
    {
        return Err(too_many("from your network"));
    }
    let this_account = accounts_db::count_attempts(db, failures(Some(email), None)).await?;
    if this_account >= MAX_FAILED_PER_ACCOUNT {
        let successes_here = Attempts {
            succeeded: true,
            after: now - Duration::days(1),
            email: Some(email),
            client: Some(client),
        };
        let known_here = accounts_db::count_attempts(db, successes_here).await?;
        if known_here == 0 {
            return Err(too_many("for this e-mail address"));
        }
    }
    Ok(())
}

/// Checks an e-mail address and password from a client address. Every attempt is recorded;
/// failures are throttled per account and address and per address (see [`check_throttle`]),
/// whether or not the e-mail address has an account, and every check costs the same hashing
/// time ([`hash_to_check`]).
pub async fn authenticate(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
    client: Option<IpAddr>,
    now: OffsetDateTime,
) -> AppResult<user::Model> {
    let email = email.trim().to_lowercase();
    let client = client.map(throttle_key);
    check_throttle(db, &email, client.as_deref(), now).await?;
    let found = users_db::by_email(db, &email).await?;
    let (hash, can_succeed) = hash_to_check(found.as_ref());
    let ok = verify_password(hash, password) && can_succeed;
    accounts_db::record_attempt(db, email, ok, client, now).await?;
    match found {
        Some(u) if ok => Ok(u),
        _ => Err(AppError::invalid(SIGN_IN_FAILED)),
    }
}

/// Ends every session of a user (they are signed out everywhere).
pub async fn end_sessions(conn: &impl ConnectionTrait, user_id: i64) -> AppResult<u64> {
    Ok(accounts_db::end_sessions(conn, user_id).await?)
}

/// Deactivates or reactivates an account; deactivation ends its sessions and revokes its API
/// tokens in the same transaction, so reactivation does not bring an old cookie or token back to
/// life. The caller has checked the actor may manage users. Returns whether the account exists.
pub async fn set_active(
    db: &DatabaseConnection,
    user_id: i64,
    active: bool,
    now: OffsetDateTime,
) -> AppResult<bool> {
    let txn = db.begin().await?;
    let found = users_db::set_active(&txn, user_id, active).await?;
    if !active {
        end_sessions(&txn, user_id).await?;
        users_db::revoke_api_tokens(&txn, user_id, now).await?;
    }
    txn.commit().await?;
    Ok(found)
}

/// A fresh 256-bit token from the operating system's CSPRNG (tower-sessions' ids are 128-bit
/// random values from it; two of them avoid another randomness dependency).
pub(crate) fn new_token() -> String {
    use tower_sessions::session::Id;
    format!("{}{}", Id::default(), Id::default())
}

/// The SHA-256 of a token, hex: what is stored instead of the token.
pub(crate) fn token_hash(token: &str) -> String {
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
    let id = accounts_db::insert_token(
        conn,
        user_id,
        purpose.as_str(),
        token_hash(&token),
        now + ttl,
        now,
    )
    .await?;
    Ok((id, token))
}

/// The user a token would act for, if it is still good (for showing the set-password form).
pub async fn token_user(
    db: &DatabaseConnection,
    token: &str,
    purpose: TokenPurpose,
    now: OffsetDateTime,
) -> AppResult<user::Model> {
    let row = valid_token(db, token, purpose, now).await?;
    users_db::by_id(db, row.user_id)
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
    accounts_db::valid_token(conn, &token_hash(token), purpose.as_str(), now)
        .await?
        .ok_or_else(expired_link)
}

/// Sets a new password through an invitation or reset token, using the token up, and ends every
/// session of the account. The user's other unused tokens of the same purpose stop working too.
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
    let claimed = accounts_db::use_tokens(&txn, row.user_id, purpose.as_str(), now).await?;
    if claimed == 0 {
        return Err(expired_link());
    }
    let u = users_db::by_id(&txn, row.user_id)
        .await?
        .ok_or_else(expired_link)?;
    let u = users_db::set_password(&txn, u.id, hash).await?;
    // Whoever knew the old password is signed out everywhere; the caller signs the person in.
    end_sessions(&txn, u.id).await?;
    txn.commit().await?;
    Ok(u)
}

/// A new account to invite.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub email: String,
    pub display_name: String,
    pub role: AccountRole,
    /// A member's organisation.
    pub organisation_id: Option<i64>,
    /// A hostmaster's registry.
    pub registry: Option<Rir>,
}

impl Invitation {
    /// An invitation from what an admin typed, or the problems per field (an unknown role
    /// among them).
    pub fn from_form(
        email: &str,
        display_name: &str,
        role: &str,
        organisation_id: Option<i64>,
        registry: Option<Rir>,
    ) -> Result<Invitation, Vec<(&'static str, String)>> {
        let parsed = AccountRole::parse(role);
        let inv = Invitation {
            email: email.to_owned(),
            display_name: display_name.to_owned(),
            // Checked for its own fields only; an admin needs no organisation or registry.
            role: parsed.unwrap_or(AccountRole::Admin),
            organisation_id,
            registry,
        };
        let mut problems = check_invitation(&inv);
        if parsed.is_none() {
            problems.push(("role", "Choose a role".into()));
        }
        if problems.is_empty() {
            Ok(inv)
        } else {
            Err(problems)
        }
    }
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
    match inv.role {
        AccountRole::Member if inv.organisation_id.is_none() => {
            errors.push(("organisation_id", "Choose the member's organisation".into()));
        }
        AccountRole::Hostmaster if inv.registry.is_none() => {
            errors.push(("registry", "Choose the hostmaster's registry".into()));
        }
        _ => {}
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
    if users_db::by_email(conn, &email).await?.is_some() {
        return Err(AppError::invalid(format!("{email} already has an account")));
    }
    Ok(users_db::insert(
        conn,
        NewUser {
            email: &email,
            display_name: inv.display_name.trim(),
            role: inv.role.as_str(),
            organisation_id: inv
                .organisation_id
                .filter(|_| inv.role == AccountRole::Member),
            registry: inv.registry.filter(|_| inv.role == AccountRole::Hostmaster),
            password_hash,
        },
        now,
    )
    .await?)
}

/// Starts a password reset: an active account gets an e-mail with a link, at most
/// [`MAX_RESETS_PER_WINDOW`] per [`RESET_WINDOW`]; any other address, or one over the limit, gets
/// nothing, and the caller shows the same page either way.
pub async fn request_password_reset(
    db: &DatabaseConnection,
    email: &str,
    base_url: &str,
    now: OffsetDateTime,
) -> AppResult<()> {
    let email = email.trim().to_lowercase();
    let txn = db.begin().await?;
    let Some(u) = users_db::by_email(&txn, &email).await?.filter(|u| u.active) else {
        return Ok(());
    };
    let reset = TokenPurpose::PasswordReset.as_str();
    let recent = accounts_db::count_tokens_since(&txn, u.id, reset, now - RESET_WINDOW).await?;
    if recent >= MAX_RESETS_PER_WINDOW {
        tracing::warn!(
            user = u.id,
            "password reset e-mails over the limit: none sent"
        );
        return Ok(());
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_throttled_by_their_64() {
        let key = |s: &str| throttle_key(s.parse().unwrap());
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:bbbb::9"), key("2001:db8:1:2::1"));
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
    }
}
