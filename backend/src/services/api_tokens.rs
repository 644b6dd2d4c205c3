//! Personal access tokens of the JSON API: a signed-in person creates, names, lists and revokes
//! their own; an administrator may revoke anyone's. A token is shown once, when it is created, and
//! stored only as its SHA-256 (as invitation and reset tokens are). Each has scopes and an expiry,
//! and acts as its owner: the same role, organisation and registry, checked by the same
//! `authz::can` as the pages, so a token never grants more than its owner has.

use sea_orm::DatabaseConnection;
use time::{Duration, OffsetDateTime};

use crate::db::api_tokens::{self as tokens_db, NewApiToken};
use crate::db::entities::{api_token, user};
use crate::db::users as users_db;
use crate::domain::authz::{Actor, Role};
use crate::domain::transfer::UserId;
use crate::error::{AppError, AppResult};
use crate::services::accounts::{actor_of, new_token, token_hash};

/// Every token starts with this, so secret scanners (and people) recognise one.
pub const TOKEN_PREFIX: &str = "ipxfer_";
/// The longest a token may live.
pub const MAX_DAYS: i64 = 366;
/// Tokens one person may hold at once (revoked and expired ones do not count).
pub const MAX_LIVE_TOKENS: usize = 20;
const NAME_MAX: usize = 100;

/// What a token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Reading transfers, the queue, the ledger and exports.
    Read,
    /// Filing transfers and taking workflow steps on them.
    TransfersWrite,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::Read, Scope::TransfersWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::TransfersWrite => "transfers:write",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
}

/// What a person asks for when creating a token.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    pub scopes: Vec<Scope>,
    /// Days until it expires, 1 to [`MAX_DAYS`].
    pub days: i64,
}

/// Problems of a token request, by field, in the words the page shows.
pub fn check(new: &NewToken) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    let name = new.name.trim();
    if name.is_empty() {
        problems.push((
            "name",
            "Give the token a name, such as “billing system”".into(),
        ));
    } else if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        problems.push((
            "name",
            format!("Use a name of at most {NAME_MAX} characters on one line"),
        ));
    }
    if new.scopes.is_empty() {
        problems.push(("scopes", "Choose at least one scope".into()));
    }
    if !(1..=MAX_DAYS).contains(&new.days) {
        problems.push((
            "days",
            format!("Choose an expiry from 1 to {MAX_DAYS} days"),
        ));
    }
    problems
}

/// A token as read back: its row and scopes.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub row: api_token::Model,
    pub scopes: Vec<Scope>,
    /// The owner's e-mail address (shown to administrators).
    pub owner: String,
}

impl TokenInfo {
    fn of(row: api_token::Model, owner: String) -> TokenInfo {
        TokenInfo {
            scopes: scopes_of(&row.scopes),
            row,
            owner,
        }
    }

    /// `active`, `expired` or `revoked`.
    pub fn status(&self, now: OffsetDateTime) -> &'static str {
        if self.row.revoked_at.is_some() {
            "revoked"
        } else if self.row.expires_at <= now {
            "expired"
        } else {
            "active"
        }
    }
}

fn scopes_of(stored: &str) -> Vec<Scope> {
    stored.split(' ').filter_map(Scope::parse).collect()
}

/// Creates a token for a signed-in person; returns it with the secret, which is never shown
/// again. Only people with a role (not anonymous, not deactivated) may hold tokens.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    new: &NewToken,
    now: OffsetDateTime,
) -> AppResult<(TokenInfo, String)> {
    let user_id = match (actor.user_id, actor.role) {
        (Some(id), role) if role != Role::Anonymous => id,
        _ => return Err(AppError::Forbidden("Sign in first.".into())),
    };
    if let Some((_, problem)) = check(new).into_iter().next() {
        return Err(AppError::Invalid(problem));
    }
    let live = list_own(db, user_id.get())
        .await?
        .iter()
        .filter(|t| t.status(now) == "active")
        .count();
    if live >= MAX_LIVE_TOKENS {
        return Err(AppError::invalid(format!(
            "You hold {MAX_LIVE_TOKENS} active tokens already: revoke one you no longer use first"
        )));
    }
    let mut scopes = new.scopes.clone();
    scopes.sort();
    scopes.dedup();
    let secret = format!("{TOKEN_PREFIX}{}", new_token());
    let token = NewApiToken {
        user_id: user_id.get(),
        name: new.name.trim(),
        prefix: secret.chars().take(TOKEN_PREFIX.len() + 4).collect(),
        token_hash: token_hash(&secret),
        scopes: scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        expires_at: now + Duration::days(new.days),
    };
    let row = tokens_db::insert(db, token, now).await?;
    Ok((TokenInfo::of(row, String::new()), secret))
}

/// A person's tokens, newest first.
pub async fn list_own(db: &DatabaseConnection, user_id: i64) -> AppResult<Vec<TokenInfo>> {
    Ok(tokens_db::of_user(db, user_id)
        .await?
        .into_iter()
        .map(|r| TokenInfo::of(r, String::new()))
        .collect())
}

/// Every token that has not been revoked and has not expired, with its owner: what an
/// administrator may revoke.
pub async fn list_live(db: &DatabaseConnection, now: OffsetDateTime) -> AppResult<Vec<TokenInfo>> {
    let rows = tokens_db::live(db, now).await?;
    let owners = users_db::emails_of(db, rows.iter().map(|r| r.user_id)).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let owner = owners.get(&r.user_id).cloned().unwrap_or_default();
            TokenInfo::of(r, owner)
        })
        .collect())
}

/// Revokes a token: its owner may, and so may an administrator (or the operator on the command
/// line, an administrator without a user). Someone else's token answers as
/// one that does not exist. Revoking twice changes nothing.
pub async fn revoke(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    now: OffsetDateTime,
) -> AppResult<TokenInfo> {
    let missing = || AppError::NotFound(format!("There is no token {id}."));
    let row = tokens_db::by_id(db, id).await?.ok_or_else(missing)?;
    let owner = actor.user_id == Some(UserId(row.user_id)) && actor.role != Role::Anonymous;
    if !owner && actor.role != Role::Admin {
        return Err(missing());
    }
    if row.revoked_at.is_some() {
        return Ok(TokenInfo::of(row, String::new()));
    }
    let row = tokens_db::revoke(db, row, actor.user_id.map(UserId::get), now).await?;
    Ok(TokenInfo::of(row, String::new()))
}

/// Who a request's bearer token acts for.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: i64,
    pub scopes: Vec<Scope>,
    pub user: user::Model,
    pub actor: Actor,
}

impl Caller {
    /// Refuses unless the token has `scope`.
    pub fn require(&self, scope: Scope) -> AppResult<()> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "This token does not have the {} scope.",
                scope.as_str()
            )))
        }
    }
}

/// How often `last_used_at` is written at most: a busy token costs one write a minute, not one
/// per request.
const LAST_USED_EVERY: Duration = Duration::minutes(1);

/// The caller behind a bearer token: refused when the token is unknown, revoked or expired, or
/// its owner is deactivated, all with the same message so a guesser learns nothing.
pub async fn authenticate(
    db: &DatabaseConnection,
    secret: &str,
    now: OffsetDateTime,
) -> AppResult<Caller> {
    let refused = || {
        AppError::Unauthenticated(
            "This token is not valid: it is unknown, revoked or expired.".into(),
        )
    };
    if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
        return Err(refused());
    }
    let row = tokens_db::by_hash(db, &token_hash(secret))
        .await?
        .ok_or_else(refused)?;
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Err(refused());
    }
    let u = users_db::by_id(db, row.user_id)
        .await?
        .filter(|u| u.active)
        .ok_or_else(refused)?;
    let actor = actor_of(&u);
    if actor.role == Role::Anonymous {
        return Err(refused());
    }
    if row.last_used_at.is_none_or(|t| now - t >= LAST_USED_EVERY) {
        tokens_db::touch(db, row.id, now).await?;
    }
    Ok(Caller {
        token_id: row.id,
        scopes: scopes_of(&row.scopes),
        user: u,
        actor,
    })
}

/// Creates a token for the user with this e-mail address (`ipxfer token create`, for operators
/// and the demo).
pub async fn create_for_email(
    db: &DatabaseConnection,
    email: &str,
    new: &NewToken,
    now: OffsetDateTime,
) -> AppResult<(TokenInfo, String)> {
    let u = users_db::by_email(db, email)
        .await?
        .ok_or_else(|| AppError::invalid(format!("there is no user {email}")))?;
    let actor = actor_of(&u);
    if actor.role == Role::Anonymous {
        return Err(AppError::invalid(format!(
            "{email} is deactivated or has no role: it cannot hold tokens"
        )));
    }
    create(db, &actor, new, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(Scope::parse("admin"), None);
        assert_eq!(
            scopes_of("read transfers:write"),
            vec![Scope::Read, Scope::TransfersWrite]
        );
    }

    #[test]
    fn a_token_request_is_checked() {
        let ok = NewToken {
            name: "billing".into(),
            scopes: vec![Scope::Read],
            days: 30,
        };
        assert!(check(&ok).is_empty());
        let bad = NewToken {
            name: " ".into(),
            scopes: vec![],
            days: 0,
        };
        let fields: Vec<_> = check(&bad).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["name", "scopes", "days"]);
        let long = NewToken {
            days: MAX_DAYS + 1,
            name: "x\ny".into(),
            ..ok
        };
        assert_eq!(check(&long).len(), 2);
    }
}
