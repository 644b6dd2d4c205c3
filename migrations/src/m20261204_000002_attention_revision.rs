//! A revision of what the administrator's attention page shows, kept by the database (issue 11):
//! the open invitations, the users' count and the failed e-mails' count are kept in memory under
//! this revision with the newest organisation's id (`db::freshness::AttentionKey`), so a view
//! reads two more index probes in its session's statement instead of the page.
//!
//! Triggers move it with every insert, update or delete of a user or an invitation link
//! (`auth_tokens`), and with every e-mail that enters or leaves the `failed` status; the many
//! writes of e-mails being queued and sent leave it alone. Organisations are counted by their
//! newest id instead: an import inserts them by the thousand, and a per-row trigger would cost it
//! a write each.
//!
//! - SQLite: row triggers (one writer at a time, so the row cannot deadlock).
//! - PostgreSQL: constraint triggers deferred to the commit, as `contents_revision`'s, moving the
//!   row once per transaction.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose every insert, update and delete moves the revision.
const ALL_WRITES: &[&str] = &["users", "auth_tokens"];

/// An e-mail's writes that move it, with the condition under which each does: entering or
/// leaving the `failed` status (`db::outbox::FAILED`).
const OUTBOX: [(&str, &str); 3] = [
    ("insert", "NEW.status = 'failed'"),
    (
        "update",
        "OLD.status IS DISTINCT FROM NEW.status AND (OLD.status = 'failed' OR NEW.status = 'failed')",
    ),
    ("delete", "OLD.status = 'failed'"),
];

const MOVE: &str = "UPDATE revisions SET revision = revision + 1 WHERE name = 'attention'";

fn sqlite_up() -> Vec<String> {
    let mut up = vec!["INSERT INTO revisions (name, revision) VALUES ('attention', 0)".to_owned()];
    for table in ALL_WRITES {
        for op in ["insert", "update", "delete"] {
            up.push(format!(
                "CREATE TRIGGER {table}_attention_{op} AFTER {op} ON {table} BEGIN {MOVE}; END"
            ));
        }
    }
    for (op, when) in OUTBOX {
        // SQLite spells `IS DISTINCT FROM` as `IS NOT`.
        let when = when.replace("IS DISTINCT FROM", "IS NOT");
        up.push(format!(
            "CREATE TRIGGER email_outbox_attention_{op} AFTER {op} ON email_outbox \
             WHEN {when} BEGIN {MOVE}; END"
        ));
    }
    up
}

fn sqlite_down() -> Vec<String> {
    let mut down = Vec::new();
    for table in ALL_WRITES.iter().chain(&["email_outbox"]) {
        for op in ["insert", "update", "delete"] {
            down.push(format!("DROP TRIGGER {table}_attention_{op}"));
        }
    }
    down.push("DELETE FROM revisions WHERE name = 'attention'".to_owned());
    down
}

fn postgres_up() -> Vec<String> {
    let mut up = crate::m20261204_000001_contents_revision::postgres_revision("attention").to_vec();
    let trigger = |table: &str, name: &str, ops: &str, when: &str| {
        format!(
            "CREATE CONSTRAINT TRIGGER {name} AFTER {ops} ON {table} \
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW {when} \
             EXECUTE FUNCTION attention_revision()"
        )
    };
    for table in ALL_WRITES {
        up.push(trigger(
            table,
            &format!("{table}_attention"),
            "INSERT OR UPDATE OR DELETE",
            "",
        ));
    }
    for (op, when) in OUTBOX {
        up.push(trigger(
            "email_outbox",
            &format!("email_outbox_attention_{op}"),
            op,
            &format!("WHEN ({when})"),
        ));
    }
    up
}

fn postgres_down() -> Vec<String> {
    let mut down: Vec<String> = ALL_WRITES
        .iter()
        .map(|t| format!("DROP TRIGGER {t}_attention ON {t}"))
        .collect();
    for (op, _) in OUTBOX {
        down.push(format!(
            "DROP TRIGGER email_outbox_attention_{op} ON email_outbox"
        ));
    }
    down.push("DROP FUNCTION attention_revision()".to_owned());
    down.push("DELETE FROM revisions WHERE name = 'attention'".to_owned());
    down
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements = match manager.get_database_backend() {
            DatabaseBackend::Postgres => postgres_up(),
            _ => sqlite_up(),
        };
        crate::m20261204_000001_contents_revision::run(manager, statements).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements = match manager.get_database_backend() {
            DatabaseBackend::Postgres => postgres_down(),
            _ => sqlite_down(),
        };
        crate::m20261204_000001_contents_revision::run(manager, statements).await
    }
}
