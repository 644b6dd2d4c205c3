//! `ipxfer token create|list|revoke`: personal access tokens of the JSON API for operators (a
//! token for an integration account, the demo's tokens in CI), through the same service as the
//! account page.

use anyhow::Context;
use clap::Subcommand;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::domain::authz::{Actor, Role};
use crate::services::api_tokens::{self, NewToken, Scope};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for a user and print it (it is shown only this once).
    Create {
        /// The user's e-mail address.
        #[arg(long)]
        user: String,
        /// `read` or `transfers:write`; repeat for both.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// A name saying what uses it.
        #[arg(long, default_value = "created with ipxfer token create")]
        name: String,
        /// Days until it expires.
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
    /// List a user's tokens (never their secrets).
    List {
        #[arg(long)]
        user: String,
    },
    /// Revoke a token by its number, as an operator (an administrator's revocation).
    Revoke { id: i64 },
}

pub async fn run(
    conn: &DatabaseConnection,
    command: TokenCommand,
    now: time::OffsetDateTime,
) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            user,
            scopes,
            name,
            days,
        } => {
            let scopes = scopes
                .iter()
                .map(|s| {
                    Scope::parse(s).with_context(|| {
                        format!("{s:?} is not a scope: use read or transfers:write")
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let new = NewToken { name, scopes, days };
            let (info, secret) = api_tokens::create_for_email(conn, &user, &new, now).await?;
            eprintln!(
                "token {} for {user}, expires {}",
                info.row.id, info.row.expires_at
            );
            println!("{secret}");
        }
        TokenCommand::List { user } => {
            let u = crate::db::entities::user::Entity::find()
                .filter(crate::db::entities::user::Column::Email.eq(user.trim().to_lowercase()))
                .one(conn)
                .await?
                .with_context(|| format!("there is no user {user}"))?;
            for t in api_tokens::list_own(conn, u.id).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.row.id,
                    t.status(now),
                    t.row.prefix,
                    t.row.scopes,
                    t.row.name
                );
            }
        }
        TokenCommand::Revoke { id } => {
            let operator = Actor {
                user_id: None,
                role: Role::Admin,
            };
            let info = api_tokens::revoke(conn, &operator, id, now).await?;
            println!("revoked token {} ({})", info.row.id, info.row.name);
        }
    }
    Ok(())
}
