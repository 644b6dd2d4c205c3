//! One index that holds each registry's queue in the order hostmasters work it: keyed by the
//! registry a waiting step waits on ([`QUEUE_REGISTRY`]: the source registry in its review,
//! finalization or dispute, the recipient registry in its review, NULL when nothing waits), then
//! `(updated_at, id)`. A page of the queue is one range of it, read in order and stopped at the
//! page's LIMIT. Before, both databases read the two sides' `queue_indexes` as an `OR` and
//! fetched and sorted every waiting step of the registry (950 for ARIN on the scale data set)
//! to keep 51.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The registry a transfer's step waits on. A query uses the index only when it compares this
/// very expression (`db::transfers` does, from this constant): both databases match an
/// expression index by the expression's form, not its meaning.
pub const QUEUE_REGISTRY: &str = "CASE WHEN state IN ('source_review', 'awaiting_finalization', \
     'disputed') THEN source_registry WHEN state = 'recipient_review' THEN recipient_registry END";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!(
            "CREATE INDEX transfers_queue ON transfers (({QUEUE_REGISTRY}), updated_at, id)"
        );
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX transfers_queue")
            .await?;
        Ok(())
    }
}
