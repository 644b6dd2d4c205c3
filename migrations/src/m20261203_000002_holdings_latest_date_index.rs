//! The holdings of an organisation by their latest date ([`HOLDING_LATEST_DATE`]: the later of
//! receipt and registration), replacing the index on `organisation_id` alone, whose leading
//! column this one keeps. The rules' holding period asks for a party's holdings received or
//! registered within the last months (`db::transfers::recent_receipts`); through the old index
//! each transfer page read every holding of its parties and kept the recent few (1,045 read
//! for 47 kept on a queue page of the scale data set), so a large holder's pages cost what it
//! holds, not what the rule looks at.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The later of a holding's receipt and registration dates, NULL when it has neither; so
/// `received_on >= d OR registered_on >= d` is `HOLDING_LATEST_DATE >= d`. One form for both
/// databases (SQLite's `max()` of a NULL is NULL, PostgreSQL's `GREATEST` skips it), and
/// `db::transfers` compares this very text, as both match an expression index by its form.
pub const HOLDING_LATEST_DATE: &str = "CASE WHEN registered_on IS NULL OR received_on >= \
     registered_on THEN received_on ELSE registered_on END";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared(&format!(
            "CREATE INDEX holdings_organisation_latest ON holdings \
             (organisation_id, ({HOLDING_LATEST_DATE}))"
        ))
        .await?;
        conn.execute_unprepared("DROP INDEX holdings_organisation")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("CREATE INDEX holdings_organisation ON holdings (organisation_id)")
            .await?;
        conn.execute_unprepared("DROP INDEX holdings_organisation_latest")
            .await?;
        Ok(())
    }
}
