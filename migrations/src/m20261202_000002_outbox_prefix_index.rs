//! PostgreSQL only: an index on `email_outbox.message_id` under the "C" collation. The deadline
//! scheduler asks, for each overdue transfer every minute, whether a reminder with a given
//! Message-ID prefix is already queued; a prefix is a range in byte order, which the ordinary
//! index (in the database's collation) cannot serve. Without it each question scanned the
//! outbox: 12-28 ms apiece on the scale data set, thousands a minute. SQLite compares bytes
//! already and reads its unique index.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    r#"CREATE INDEX email_outbox_message_id_bytes ON email_outbox (message_id COLLATE "C")"#,
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP INDEX email_outbox_message_id_bytes")
                .await?;
        }
        Ok(())
    }
}
