//! Transfers: loading the aggregate the pure core decides on, in-flight claims, and history.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Statement,
};

use super::entities::{
    document, fee_line, finding_override, holding, organisation, policy_exception, transfer,
    transfer_block, transfer_event,
};
use super::holdings::range_of;
use super::organisations::to_facts;
use super::packed::{
    PackedBatch, PackedRows, ReadId, bigint_array, columns_of, id_in, id_in_expr, json_rows,
    packed_array, packed_rows, packed_select, packed_time,
};
use crate::domain::policy::RecordedException;
use crate::domain::transfer::{
    DocumentKind, HoldingFacts, HoldingOrigin, InFlightClaim, NeedJustification, TransferFacts,
};
use crate::domain::transfer::{OrgId, TransferId};
use crate::domain::workflow::State;
use crate::domain::{Ipv4Range, Rir, Side, TransferType};

/// A transfer as stored, with what the core needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// What the row says beyond the facts and the state.
    pub row: Record,
    pub facts: TransferFacts,
    pub state: State,
}

/// The columns of a transfer's row that are neither its facts nor its state: when it was filed
/// and last changed, its deadline, the agreed price as written, and who confirmed the fees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: i64,
    pub filed_by: Option<i64>,
    pub filed_at: time::OffsetDateTime,
    pub updated_at: time::OffsetDateTime,
    pub deadline: Option<time::OffsetDateTime>,
    pub completed_at: Option<time::OffsetDateTime>,
    /// The agreed price as stored (a decimal number), and its currency.
    pub agreed_price: Option<String>,
    pub price_currency: Option<String>,
    pub fees_confirmed_by: Option<i64>,
}

impl Record {
    pub(super) fn of(row: &transfer::Model) -> Record {
        Record {
            id: row.id,
            filed_by: row.filed_by,
            filed_at: row.filed_at,
            updated_at: row.updated_at,
            deadline: row.deadline,
            completed_at: row.completed_at,
            agreed_price: row.agreed_price.clone(),
            price_currency: row.price_currency.clone(),
            fees_confirmed_by: row.fees_confirmed_by,
        }
    }
}

fn corrupt(what: String) -> DbErr {
    DbErr::Custom(what)
}

/// Bumps the version of a transfer. It is the first write of every transaction that changes a
/// transfer: it takes SQLite's write lock at once and PostgreSQL's row lock, so two events on
/// one transfer run one after the other. Returns false when the transfer does not exist.
pub async fn lock_for_update(conn: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    let res = transfer::Entity::update_many()
        .col_expr(
            transfer::Column::Version,
            Expr::col(transfer::Column::Version).add(1),
        )
        .filter(transfer::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Loads a transfer with its parties, blocks, documents and need justification.
pub async fn load(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Loaded>, DbErr> {
    let Some(row) = transfer::Entity::find_by_id(id).one(conn).await? else {
        return Ok(None);
    };
    Ok(load_many(conn, vec![row]).await?.pop())
}

/// Takes a transfer's lock for this transaction ([`lock_for_update`]), then loads it; none
/// when there is no such transfer.
pub async fn lock_and_load(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Loaded>, DbErr> {
    if !lock_for_update(conn, id).await? {
        return Ok(None);
    }
    load(conn, id).await
}

/// Completes transfer rows into what the core decides on, with one query each for the
/// organisations, blocks and document kinds of all of them (a page of a list or queue).
pub async fn load_many(
    conn: &impl ConnectionTrait,
    rows: Vec<transfer::Model>,
) -> Result<Vec<Loaded>, DbErr> {
    Ok(load_with_parties(conn, rows).await?.0)
}

/// Loaded transfers, with the organisation rows of their parties by id.
type WithParties = (
    Vec<Loaded>,
    std::collections::HashMap<i64, organisation::Model>,
);

/// [`load_many`], with the organisation rows of the parties (their handles are on the page).
async fn load_with_parties(
    conn: &impl ConnectionTrait,
    rows: Vec<transfer::Model>,
) -> Result<WithParties, DbErr> {
    if rows.is_empty() {
        return Ok((Vec::new(), Default::default()));
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let org_ids: Vec<i64> = rows
        .iter()
        .flat_map(|r| [r.source_org_id, r.recipient_org_id])
        .collect();
    let parts = packed_parts(conn, &org_ids, &ids).await?;
    assembled(rows, parts)
}

/// The transfers of `rows` completed with their [`Parts`] (which may hold more than theirs),
/// in the order of `rows`, with the parties' organisation rows.
fn assembled(rows: Vec<transfer::Model>, parts: Parts) -> Result<WithParties, DbErr> {
    let Parts {
        orgs,
        mut blocks,
        kinds,
    } = parts;
    // By transfer: the scheduler loads every waiting transfer, and looking each one's documents
    // up in the whole list was 10,000 x 11,000 comparisons at the registries' volumes.
    let mut documents: std::collections::HashMap<i64, Vec<DocumentKind>> = Default::default();
    for (transfer_id, kind) in &kinds {
        if let Some(kind) = DocumentKind::parse(kind) {
            documents.entry(*transfer_id).or_default().push(kind);
        }
    }
    let org = |org_id: i64| {
        orgs.get(&org_id)
            .ok_or_else(|| corrupt(format!("organisation {org_id} is missing")))
            .and_then(to_facts)
    };
    let mut loaded = Vec::with_capacity(rows.len());
    for row in rows {
        let id = row.id;
        let kind = TransferType::from_nro_name(&row.kind)
            .ok_or_else(|| corrupt(format!("transfer {id}: kind {:?}", row.kind)))?;
        let state = State::from_parts(&row.state, row.state_data.as_deref())
            .map_err(|e| corrupt(format!("transfer {id}: {e}")))?;
        let need = row.need_text.clone().map(|text| NeedJustification {
            text,
            horizon_months: row.need_horizon_months.and_then(|m| u32::try_from(m).ok()),
            planned_utilisation_percent: row
                .need_utilisation_percent
                .and_then(|p| u32::try_from(p).ok()),
        });
        let facts = TransferFacts {
            id: TransferId(id),
            reference: row.reference.clone(),
            kind,
            source: org(row.source_org_id)?,
            recipient: org(row.recipient_org_id)?,
            blocks: blocks.remove(&id).unwrap_or_default(),
            need,
            documents: documents.remove(&id).unwrap_or_default(),
        };
        loaded.push(Loaded {
            row: Record::of(&row),
            facts,
            state,
        });
    }
    Ok((loaded, orgs))
}

/// The organisations of `ids`, by id.
async fn organisations_by_id(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, organisation::Model>, DbErr> {
    Ok(organisation::Entity::find()
        .filter(id_in_expr(conn.get_database_backend(), "id", ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect())
}

/// What [`load_with_parties`] reads beside the transfers' rows: their parties, their blocks (in
/// address order) and their documents' kinds.
struct Parts {
    orgs: std::collections::HashMap<i64, organisation::Model>,
    blocks: std::collections::HashMap<i64, Vec<Ipv4Range>>,
    kinds: Vec<(i64, String)>,
}

/// [`Parts`] as ONE statement returning one row of three JSON arrays, instead of three
/// statements returning a row per party, block and document, on both databases. On SQLite, sqlx
/// hands every statement to its worker thread and every row back, and on the transfer pages and
/// the queue those hand-offs, not SQLite's work, were most of the page's time
/// (docs/performance.md, "Where a SQLite transfer page's time goes"); on PostgreSQL each
/// statement is a round trip, dearer than building JSON for the few dozen small rows a page has
/// (transfer pages +30-40% requests/s, the member's list +28%: "Packed on PostgreSQL too"). The
/// ids travel as one parameter (a JSON array on SQLite, an array literal on PostgreSQL): no
/// limit on their number.
async fn packed_parts(
    conn: &impl ConnectionTrait,
    org_ids: &[i64],
    ids: &[i64],
) -> Result<Parts, DbErr> {
    let backend = conn.get_database_backend();
    let (orgs_in, orgs_param) = id_in(backend, "id", 1, org_ids);
    let (transfers_in, ids_param) = id_in(backend, "transfer_id", 2, ids);
    let [orgs, blocks, kinds] = parts_reads(&orgs_in, &transfers_in)
        .map(|(columns, from)| json_rows(backend, columns, &from));
    let sql = format!("SELECT {orgs} AS orgs, {blocks} AS blocks, {kinds} AS kinds");
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [orgs_param, ids_param],
        ))
        .await?
        .ok_or_else(|| corrupt("the transfers' parts: no row".to_owned()))?;
    Parts::of_packed(
        packed_array(&row, "orgs")?,
        packed_array(&row, "blocks")?,
        packed_array(&row, "kinds")?,
    )
}

/// An organisation's columns as [`Parts`] reads them ([`PART_ORG_COLUMNS`]).
type OrgRow = (i64, String, String, String, Option<String>, String, String);

/// The columns [`Parts`] reads of each party, block and document.
const PART_ORG_COLUMNS: &str = "id, registry, handle, name, country, membership, created_at";
const PART_BLOCK_COLUMNS: &str = "transfer_id, start_addr, end_addr";
const PART_KIND_COLUMNS: &str = "transfer_id, kind";

impl Parts {
    /// The parts from their packed rows.
    fn of_packed(
        org_rows: Vec<OrgRow>,
        block_rows: Vec<(i64, i64, i64)>,
        kinds: Vec<(i64, String)>,
    ) -> Result<Parts, DbErr> {
        let mut orgs = std::collections::HashMap::new();
        for (id, registry, handle, name, country, membership, created_at) in org_rows {
            orgs.insert(
                id,
                organisation::Model {
                    id,
                    registry,
                    handle,
                    name,
                    country,
                    membership,
                    created_at: packed_time("organisation", id, &created_at)?,
                },
            );
        }
        let mut blocks: std::collections::HashMap<i64, Vec<Ipv4Range>> = Default::default();
        for (transfer_id, start, end) in block_rows {
            blocks
                .entry(transfer_id)
                .or_default()
                .push(range_of(start, end)?);
        }
        // In address order, as the rules and the page list them.
        for list in blocks.values_mut() {
            list.sort_unstable();
        }
        Ok(Parts {
            orgs,
            blocks,
            kinds,
        })
    }
}

/// The reads of [`Parts`] for the transfers of a table `shown` (a page of them): each part's
/// columns and its table with the condition, in the order organisations, blocks, documents. On
/// PostgreSQL the page's ids are an array (`= ANY(ARRAY(...))`), so each part is one index scan
/// by them: with `IN (SELECT ...)` it hashed the ids against a scan of every transfer's blocks
/// (10,500 rows, 2.4 ms of a 4.6 ms statement on the scale set).
fn parts_of_shown(backend: DatabaseBackend) -> [(&'static str, String); 3] {
    let one_of = |column: &str, ids: &str| {
        if backend == DatabaseBackend::Postgres {
            format!("{column} = ANY(ARRAY({ids}))")
        } else {
            format!("{column} IN ({ids})")
        }
    };
    let parties = "SELECT source_org_id FROM shown UNION ALL SELECT recipient_org_id FROM shown";
    let transfers = "SELECT id FROM shown";
    parts_reads(&one_of("id", parties), &one_of("transfer_id", transfers))
}

/// The reads of [`Parts`], each part's columns and its table with the condition, in the order
/// organisations, blocks, documents: the parties where `orgs_where`, the blocks and documents
/// where `transfers_where` (of [`packed_parts`] by lists of ids, of [`parts_of_shown`] by a
/// page).
fn parts_reads(orgs_where: &str, transfers_where: &str) -> [(&'static str, String); 3] {
    [
        (
            PART_ORG_COLUMNS,
            format!("organisations WHERE {orgs_where}"),
        ),
        (
            PART_BLOCK_COLUMNS,
            format!("transfer_blocks WHERE {transfers_where}"),
        ),
        (
            PART_KIND_COLUMNS,
            format!("documents WHERE {transfers_where}"),
        ),
    ]
}

/// The transfers `page` selects (a SQLite statement ordered by `order`), loaded as
/// [`load_many`] loads them, and the read `beside` them (a statement and the names of its
/// columns) as ONE statement: the page is a table the parts are read from
/// ([`PackedBatch::reading_from`]), where the page and its parts were a statement each, and each
/// statement is a hand-off to SQLite's worker thread and back. The table keeps no order, so the
/// page is sorted here by `order`, the key of its ORDER BY. Returns the page and the rows of
/// `beside`, each a `T`.
async fn loaded_page_sqlite<K: Ord, T: serde::de::DeserializeOwned>(
    conn: &impl ConnectionTrait,
    page: Statement,
    order: impl Fn(&transfer::Model) -> K,
    (beside, columns): (Statement, &str),
) -> Result<(Vec<Loaded>, Vec<T>), DbErr> {
    let mut batch = PackedBatch::reading_from("shown", page);
    let shown = ShownReads::added(&mut batch, conn.get_database_backend());
    let beside = batch.add(beside, columns);
    let packed = batch.run(conn).await?;
    Ok((shown.loaded(&packed, order)?.0, packed.take(beside)?))
}

/// The reads of the transfers of a batch's table `shown` ([`PackedBatch::reading_from`]): their
/// rows and their [`Parts`].
struct ShownReads {
    rows: ReadId,
    parts: [ReadId; 3],
}

impl ShownReads {
    /// Adds the reads to `batch`.
    fn added(batch: &mut PackedBatch, backend: DatabaseBackend) -> ShownReads {
        let of_shown = |columns: &str, from: &str| {
            Statement::from_string(backend, format!("SELECT {columns} FROM {from}"))
        };
        ShownReads {
            rows: batch.add(of_shown("*", "shown"), &columns_of::<transfer::Entity>()),
            parts: parts_of_shown(backend)
                .map(|(columns, from)| batch.add(of_shown(columns, &from), columns)),
        }
    }

    /// The transfers loaded as [`load_with_parties`] loads them, sorted by `order` (the table
    /// keeps none).
    fn loaded<K: Ord>(
        self,
        packed: &PackedRows,
        order: impl Fn(&transfer::Model) -> K,
    ) -> Result<WithParties, DbErr> {
        let mut rows: Vec<transfer::Model> = packed.take(self.rows)?;
        rows.sort_unstable_by_key(|t| order(t));
        let [orgs, blocks, kinds] = self.parts;
        let parts = Parts::of_packed(
            packed.take(orgs)?,
            packed.take(blocks)?,
            packed.take(kinds)?,
        )?;
        assembled(rows, parts)
    }
}

/// For each set of blocks (a page of transfers), the holdings that overlap any of them: one
/// statement per [`PROBES`] blocks, however many transfers the page holds. Holdings never
/// overlap one another, so those overlapping a block are the last one starting at or before it
/// and those starting inside it: two tight probes of the `start_addr` index per block.
///
/// Pages read this through [`rule_reads`], batched with the others; alone it is what the batch
/// is tested against.
pub async fn holdings_touching_many(
    conn: &impl ConnectionTrait,
    sets: &[&[Ipv4Range]],
) -> Result<Vec<Vec<HoldingFacts>>, DbErr> {
    let mut found = Vec::new();
    for stmt in holdings_touching_statements(conn, sets) {
        found.extend(holdings_selected(conn, stmt).await?);
    }
    Ok(holdings_per_set(found, sets))
}

/// The statements of [`holdings_touching_many`], one per [`PROBES`] blocks. Per probe: the last
/// holding starting at or before it, and those starting inside it (the ones that do not reach
/// the block are dropped by [`holdings_per_set`]).
fn holdings_touching_statements(
    conn: &impl ConnectionTrait,
    sets: &[&[Ipv4Range]],
) -> Vec<Statement> {
    let all: Vec<Ipv4Range> = sets.iter().flat_map(|s| s.iter().copied()).collect();
    let postgres = conn.get_database_backend() == DatabaseBackend::Postgres;
    all.chunks(PROBES)
        .map(|chunk| {
            let (rows, params) = probe_rows(conn, chunk, false);
            // PostgreSQL cannot size the `IN` list of the second form and hashes it against
            // every holding (a sequential scan of 250,000 rows, 20-50 ms a transfer page);
            // LATERAL keeps it two index probes.
            let sql = if postgres {
                format!(
                    "WITH q(s, e) AS ({rows}) \
                     SELECT h.* FROM q CROSS JOIN LATERAL ( \
                       (SELECT * FROM holdings WHERE start_addr <= q.s \
                        ORDER BY start_addr DESC LIMIT 1) \
                       UNION ALL \
                       (SELECT * FROM holdings WHERE start_addr > q.s AND start_addr <= q.e)) h"
                )
            } else {
                holdings_touching_sqlite(&rows)
            };
            Statement::from_sql_and_values(conn.get_database_backend(), sql, params)
        })
        .collect()
}

/// The holdings the blocks touch ([`holdings_touching_many`] for one set) with each holder's
/// name, joined in the same statement and packed (the reviewer's "held by" panel reads both; a
/// second statement for the names was a round trip).
pub async fn held_by_touching(
    conn: &impl ConnectionTrait,
    blocks: &[Ipv4Range],
) -> Result<Vec<HeldBy>, DbErr> {
    let mut rows = Vec::new();
    for stmt in holdings_touching_statements(conn, &[blocks]) {
        let stmt = with_holder_names(stmt);
        rows.extend(packed_select::<HeldRow>(conn, stmt, &held_columns()).await?);
    }
    held_by_of(rows, blocks)
}

/// The holdings a statement selects (every column of `holdings`), each with its holder's name
/// as a further column, `holder`.
fn with_holder_names(stmt: Statement) -> Statement {
    // The name as a sub-select, one primary-key probe a holding: under the generic plan that
    // PostgreSQL keeps for the probes (`probe_rows`), a join expected 1,250 holdings and
    // hashed all 80,000 organisations for them (37 ms instead of 0.2).
    let sql = format!(
        "SELECT t.*, (SELECT o.name FROM organisations o WHERE o.id = t.organisation_id) \
         AS holder FROM ({}) t",
        stmt.sql
    );
    Statement { sql, ..stmt }
}

/// The columns of a packed [`HeldRow`].
fn held_columns() -> String {
    format!("{HOLDING_COLUMNS}, holder")
}

/// The holdings of packed `rows` (each with its holder's name) that overlap `blocks`, in
/// address order, each once.
fn held_by_of(rows: Vec<HeldRow>, blocks: &[Ipv4Range]) -> Result<Vec<HeldBy>, DbErr> {
    let mut found = Vec::new();
    let mut names = std::collections::HashMap::new();
    for (id, registry, org, start, end, origin, registered_on, received_on, holder) in rows {
        names.insert(org, holder);
        let row = (
            id,
            registry,
            org,
            start,
            end,
            origin,
            registered_on,
            received_on,
        );
        found.push(holding_of_row(row)?);
    }
    Ok(holdings_per_set(found, &[blocks])
        .pop()
        .unwrap_or_default()
        .into_iter()
        .map(|holding| HeldBy {
            holder: names
                .get(&holding.org_id.get())
                .cloned()
                .unwrap_or_default(),
            holding,
        })
        .collect())
}

/// SQLite's read of the holdings that overlap any of the probes `q(s, e)` that `probes`
/// selects: for each, the last holding starting at or before it and those starting inside it.
/// CROSS JOIN keeps the probes the outer loop (when they come from a table rather than
/// `VALUES`, the planner otherwise may walk the holdings and probe inside).
fn holdings_touching_sqlite(probes: &str) -> String {
    format!(
        "WITH q(s, e) AS ({probes}) \
         SELECT * FROM holdings WHERE id IN ( \
           SELECT (SELECT h.id FROM holdings h WHERE h.start_addr <= q.s \
                   ORDER BY h.start_addr DESC LIMIT 1) FROM q \
           UNION SELECT h.id FROM q CROSS JOIN holdings h \
                   ON h.start_addr > q.s AND h.start_addr <= q.e)"
    )
}

/// For each set of blocks, the holdings `found` (by id, each once) that overlap one of them.
fn holdings_per_set(
    found: Vec<(i64, HoldingFacts)>,
    sets: &[&[Ipv4Range]],
) -> Vec<Vec<HoldingFacts>> {
    let facts: std::collections::BTreeMap<i64, HoldingFacts> = found.into_iter().collect();
    sets.iter()
        .map(|blocks| {
            facts
                .values()
                .filter(|h| blocks.iter().any(|b| b.overlaps(&h.range)))
                .cloned()
                .collect()
        })
        .collect()
}

/// A holdings row as the rules see it.
pub fn holding_facts(h: &holding::Model) -> Result<HoldingFacts, DbErr> {
    facts_of_holding(
        h.id,
        (&h.registry, h.organisation_id),
        (h.start_addr, h.end_addr),
        &h.origin,
        (h.registered_on, h.received_on),
    )
}

/// [`holding_facts`] from a holding's columns: its id (for errors), registry and holder, first
/// and last address, origin, and registration and receipt dates.
fn facts_of_holding(
    id: i64,
    (registry, org_id): (&str, i64),
    (start, end): (i64, i64),
    origin: &str,
    (registered_on, received_on): (Option<time::Date>, Option<time::Date>),
) -> Result<HoldingFacts, DbErr> {
    Ok(HoldingFacts {
        range: range_of(start, end)?,
        registry: Rir::from_token(registry)
            .ok_or_else(|| corrupt(format!("holding {id}: registry")))?,
        org_id: OrgId(org_id),
        registered_on,
        received_on,
        origin: HoldingOrigin::parse(origin)
            .ok_or_else(|| corrupt(format!("holding {id}: origin")))?,
    })
}

/// The holdings `stmt` selects (every column of `holdings`), by id, as the rules see them. On
/// SQLite they come as one packed row: a queue page's holdings are about a hundred rows of
/// twelve columns.
async fn holdings_selected(
    conn: &impl ConnectionTrait,
    stmt: Statement,
) -> Result<Vec<(i64, HoldingFacts)>, DbErr> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        return holding::Entity::find()
            .from_raw_sql(stmt)
            .all(conn)
            .await?
            .iter()
            .map(|h| Ok((h.id, holding_facts(h)?)))
            .collect();
    }
    packed_select::<HoldingRow>(conn, stmt, HOLDING_COLUMNS)
        .await?
        .into_iter()
        .map(holding_of_row)
        .collect()
}

/// The columns of a packed holding, and a row of them.
const HOLDING_COLUMNS: &str =
    "id, registry, organisation_id, start_addr, end_addr, origin, registered_on, received_on";
type HoldingRow = (
    i64,
    String,
    i64,
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
);
/// A packed holding and its holder's name ([`held_by_touching`]).
type HeldRow = (
    i64,
    String,
    i64,
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
);

/// A packed holding (its id, and its facts).
fn holding_of_row(
    (id, registry, org, start, end, origin, registered_on, received_on): HoldingRow,
) -> Result<(i64, HoldingFacts), DbErr> {
    let date = |text: Option<String>| {
        text.map(|t| super::packed::packed_date("holding", id, &t))
            .transpose()
    };
    let dates = (date(registered_on)?, date(received_on)?);
    Ok((
        id,
        facts_of_holding(id, (&registry, org), (start, end), &origin, dates)?,
    ))
}

/// Holdings of these organisations received or registered on or after `since` (either date
/// will do, a missing one does not count): what a holding period on the source rather than
/// the block looks at.
///
/// Pages read this through [`rule_reads`], batched with the others; alone it is what the batch
/// is tested against.
pub async fn recent_receipts(
    conn: &impl ConnectionTrait,
    org_ids: &[i64],
    since: time::Date,
) -> Result<Vec<HoldingFacts>, DbErr> {
    if org_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(
        holdings_selected(conn, receipts_statement(conn, org_ids, since))
            .await?
            .into_iter()
            .map(|(_, facts)| facts)
            .collect(),
    )
}

fn receipts_statement(
    conn: &impl ConnectionTrait,
    org_ids: &[i64],
    since: time::Date,
) -> Statement {
    use sea_orm::QueryTrait;
    let backend = conn.get_database_backend();
    holding::Entity::find()
        .filter(id_in_expr(backend, "organisation_id", org_ids))
        // Received or registered since: one range of `holdings_organisation_latest` per party.
        .filter(Expr::cust(migration::HOLDING_LATEST_DATE).gte(since))
        .build(backend)
}

/// Policy exceptions recorded for these transfers, by transfer id.
///
/// Pages read this through [`rule_reads`], batched with the others; alone it is what the batch
/// is tested against.
pub async fn exceptions_many(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<RecordedException>>, DbErr> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows = policy_exception::Entity::find()
        .from_raw_sql(exceptions_statement(conn, ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|e| (e.transfer_id, e.rule_id, e.name, e.reason));
    Ok(exceptions_by_transfer(rows))
}

/// The columns of a packed exception: `(transfer id, rule id, name, reason)`.
const EXCEPTION_COLUMNS: &str = "transfer_id, rule_id, name, reason";

fn exceptions_statement(conn: &impl ConnectionTrait, ids: &[i64]) -> Statement {
    use sea_orm::QueryTrait;
    let backend = conn.get_database_backend();
    policy_exception::Entity::find()
        .filter(id_in_expr(backend, "transfer_id", ids))
        .order_by_asc(policy_exception::Column::Id)
        .build(backend)
}

fn exceptions_by_transfer(
    rows: impl IntoIterator<Item = (i64, String, String, String)>,
) -> std::collections::HashMap<i64, Vec<RecordedException>> {
    let mut by_transfer: std::collections::HashMap<i64, Vec<RecordedException>> =
        Default::default();
    for (transfer_id, rule_id, name, reason) in rows {
        by_transfer
            .entry(transfer_id)
            .or_default()
            .push(RecordedException {
                rule_id,
                name,
                reason,
            });
    }
    by_transfer
}

/// Blocks per statement of the batched lookups: three bind parameters each at most, well under
/// SQLite's 32,766 and PostgreSQL's 65,535.
const PROBES: usize = 2_000;

/// Probes up to which PostgreSQL finds a page's claims with one scan of the interval index for
/// their union ([`claims_statements`]).
const UNION_PROBES: usize = 200;

/// The rows the batched lookups join to, one per block: `(s, e)`, or `(k, s, e)` with the
/// block's index first when `keyed`. Returns the row source for `WITH q(...) AS (here)` and its
/// parameters.
///
/// SQLite gets a `VALUES` list, two or three bound parameters a block. PostgreSQL gets one array
/// parameter a column, `unnest`ed, each inside a sub-select: `SELECT * FROM unnest((SELECT
/// CAST($1 AS BIGINT[])), ...)`. Two reasons, both measured on the scale data set:
/// - The planner cannot see into a sub-select's value, so the plan it makes for these values
///   costs what its generic plan costs, and PostgreSQL keeps the generic plan after its five
///   trial plans instead of planning every execution again. With a `VALUES` list (or a bare
///   `CAST`) it planned each transfer page's rules read anew: 0.55-0.75 ms of planning for
///   0.1-0.2 ms of execution (`.ci/pg-statement-profile`: `bind` 0.755 ms, `execute` 0.122).
/// - The statement's text no longer depends on the number of blocks, so every page of any size
///   shares one prepared statement per connection instead of one per count.
///
/// PostgreSQL then assumes ten blocks whatever the page holds; the plans stay index probes
/// (`a_rules_read_keeps_its_index_probes_under_a_generic_plan`).
fn probe_rows(
    conn: &impl ConnectionTrait,
    blocks: &[Ipv4Range],
    keyed: bool,
) -> (String, Vec<sea_orm::Value>) {
    let starts = blocks.iter().map(|b| i64::from(b.start()));
    let ends = blocks.iter().map(|b| i64::from(b.end()));
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        let mut params = Vec::with_capacity(3);
        if keyed {
            params.push(bigint_array(0..blocks.len() as i64));
        }
        params.push(bigint_array(starts));
        params.push(bigint_array(ends));
        let columns: Vec<String> = (1..=params.len())
            .map(|n| format!("(SELECT CAST(${n} AS BIGINT[]))"))
            .collect();
        return (
            format!("SELECT * FROM unnest({})", columns.join(", ")),
            params,
        );
    }
    let mut params: Vec<sea_orm::Value> = Vec::with_capacity(blocks.len() * 3);
    let mut sql = String::with_capacity(blocks.len() * 48 + 8);
    sql.push_str("VALUES ");
    for (i, (start, end)) in starts.zip(ends).enumerate() {
        sql.push_str(if i == 0 { "(" } else { ", (" });
        if keyed {
            params.push((i as i64).into());
            sql.push_str("CAST(? AS INTEGER), ");
        }
        params.push(start.into());
        params.push(end.into());
        sql.push_str("CAST(? AS INTEGER), CAST(? AS INTEGER))");
    }
    (sql, params)
}

/// For each transfer `(its id, its blocks)` of a page, the blocks of other open transfers that
/// overlap its own, in one statement per [`PROBES`] blocks. Open claims may overlap one another
/// (two filings racing, or the blocks of transfers that ended), so this reads them through an
/// interval index (see the migration `interval_indexes`): only the claims that overlap.
///
/// Pages read this through [`rule_reads`], batched with the others; alone it is what the batch
/// is tested against.
pub async fn in_flight_claims_many(
    conn: &impl ConnectionTrait,
    transfers: &[(Option<i64>, &[Ipv4Range])],
) -> Result<Vec<Vec<InFlightClaim>>, DbErr> {
    let mut claims = ClaimsInFlight::new(transfers);
    for (c, stmt) in claims_statements(conn, transfers).into_iter().enumerate() {
        // (probe, claimed block's first and last address, claiming transfer and reference)
        let rows: Vec<ClaimRow> = if conn.get_database_backend() == DatabaseBackend::Postgres {
            conn.query_all_raw(stmt)
                .await?
                .iter()
                .map(|row| {
                    Ok((
                        row.try_get_by_index(0)?,
                        row.try_get_by_index(1)?,
                        row.try_get_by_index(2)?,
                        row.try_get_by_index(3)?,
                        row.try_get_by_index(4)?,
                    ))
                })
                .collect::<Result<_, DbErr>>()?
        } else {
            packed_select(conn, stmt, CLAIM_COLUMNS).await?
        };
        claims.add(c, rows)?;
    }
    Ok(claims.out)
}

/// A claim as [`claims_statements`] select it: the probe's place in its statement, the claimed
/// block's first and last address, the claiming transfer's id and reference.
type ClaimRow = (i64, i64, i64, i64, String);
const CLAIM_COLUMNS: &str = "k, start_addr, end_addr, id, reference";

/// The statements of [`in_flight_claims_many`], one per [`PROBES`] blocks.
fn claims_statements(
    conn: &impl ConnectionTrait,
    transfers: &[(Option<i64>, &[Ipv4Range])],
) -> Vec<Statement> {
    let all: Vec<Ipv4Range> = transfers
        .iter()
        .flat_map(|(_, b)| b.iter().copied())
        .collect();
    let terminal = State::TERMINAL_NAMES
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let postgres = conn.get_database_backend() == DatabaseBackend::Postgres;
    all.chunks(PROBES)
        .map(|chunk| {
            let (rows, params) = probe_rows(conn, chunk, true);
            if postgres && chunk.len() <= UNION_PROBES {
                // One scan of the interval index for every probe (their union as a multirange,
                // which GiST's range opclass answers `&&` for), then each match paired with the
                // probes it overlaps: a queue page's 51 probes 0.7 ms instead of 1.2-1.5 ms of
                // lookups one probe at a time (EXPLAIN ANALYZE on the scale set). The pairing
                // costs probes times matches, so longer chunks keep the lookups below.
                let sql = format!(
                    "WITH q(k, s, e) AS ({rows}), \
                     m AS MATERIALIZED (SELECT b.start_addr, b.end_addr, b.transfer_id \
                     FROM transfer_blocks b WHERE int8range(b.start_addr, b.end_addr, '[]') \
                     && (SELECT range_agg(int8range(q.s, q.e, '[]')) FROM q)) \
                     SELECT q.k, m.start_addr, m.end_addr, t.id, t.reference \
                     FROM m JOIN q ON m.start_addr <= q.e AND m.end_addr >= q.s \
                     CROSS JOIN LATERAL (SELECT t.id, t.reference FROM transfers t \
                     WHERE t.id = m.transfer_id AND t.state NOT IN ({terminal}) OFFSET 0) t \
                     ORDER BY q.k, t.id"
                );
                return Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, params);
            }
            let claims = if postgres {
                // Each probe and each match its own index lookup (OFFSET 0 keeps the LATERALs
                // from being flattened): as plain joins PostgreSQL expected thousands of matches
                // and hashed them against a sequential scan of every transfer (8 ms a queue page
                // instead of 1.5).
                format!(
                    "CROSS JOIN LATERAL (SELECT b.start_addr, b.end_addr, b.transfer_id \
                     FROM transfer_blocks b WHERE int8range(b.start_addr, b.end_addr, '[]') \
                     && int8range(q.s, q.e, '[]') OFFSET 0) b \
                     CROSS JOIN LATERAL (SELECT t.id, t.reference FROM transfers t \
                     WHERE t.id = b.transfer_id AND t.state NOT IN ({terminal}) OFFSET 0) t"
                )
            } else {
                // CROSS JOIN keeps the probes the outer loop: with bound values SQLite's planner
                // otherwise scans the whole R*Tree once and the probes inside it (45 ms a queue
                // page on the scale data set instead of under 1 ms).
                format!(
                    "CROSS JOIN transfer_block_intervals r \
                     ON r.lo <= q.e - 2147483648 AND r.hi >= q.s - 2147483648 \
                     JOIN transfer_blocks b ON b.id = r.id \
                     JOIN transfers t ON t.id = b.transfer_id WHERE t.state NOT IN ({terminal})"
                )
            };
            let sql = format!(
                "WITH q(k, s, e) AS ({rows}) \
                 SELECT q.k, b.start_addr, b.end_addr, t.id, t.reference FROM q {claims}"
            );
            Statement::from_sql_and_values(conn.get_database_backend(), sql, params)
        })
        .collect()
}

/// The claims found for each transfer of a page, gathered from [`claims_statements`]' rows.
struct ClaimsInFlight<'t> {
    transfers: &'t [(Option<i64>, &'t [Ipv4Range])],
    /// For each probe (each block of each transfer, in order), its transfer's place.
    owner: Vec<usize>,
    out: Vec<Vec<InFlightClaim>>,
}

impl<'t> ClaimsInFlight<'t> {
    fn new(transfers: &'t [(Option<i64>, &'t [Ipv4Range])]) -> Self {
        ClaimsInFlight {
            transfers,
            owner: transfers
                .iter()
                .enumerate()
                .flat_map(|(i, (_, blocks))| std::iter::repeat_n(i, blocks.len()))
                .collect(),
            out: vec![Vec::new(); transfers.len()],
        }
    }

    /// The rows of statement `c`: each claim goes to its probe's transfer, unless it is that
    /// transfer's own block, and once.
    fn add(&mut self, c: usize, rows: Vec<ClaimRow>) -> Result<(), DbErr> {
        for (k, start, end, id, reference) in rows {
            let Some(&i) = usize::try_from(k)
                .ok()
                .and_then(|k| self.owner.get(c * PROBES + k))
            else {
                continue;
            };
            if Some(id) == self.transfers[i].0 {
                continue;
            }
            let claim = InFlightClaim {
                reference,
                range: range_of(start, end)?,
            };
            if !self.out[i].contains(&claim) {
                self.out[i].push(claim);
            }
        }
        Ok(())
    }
}

/// Everything the rules read beside a page of transfers (`services::transfers::evaluate_many`).
pub struct RuleReads {
    /// Per transfer, the holdings its blocks touch; `None` unless asked for.
    pub holdings: Option<Vec<Vec<HoldingFacts>>>,
    /// Per transfer, the claims of other open transfers on its blocks.
    pub in_flight: Vec<Vec<InFlightClaim>>,
    /// The holdings of `receipt_orgs` received or registered since the date given.
    pub receipts: Vec<HoldingFacts>,
    /// Policy exceptions recorded, by transfer id.
    pub exceptions: std::collections::HashMap<i64, Vec<RecordedException>>,
}

/// What [`RuleReads`] holds: [`holdings_touching_many`] of `holdings_of` when given,
/// [`in_flight_claims_many`] of `claimed`, [`recent_receipts`] and [`exceptions_many`] of `ids`,
/// as ONE statement ([`PackedBatch`]): four reads, each its own hand-offs on SQLite and its own
/// round trip on PostgreSQL, were half the statements of a queue page.
pub async fn rule_reads(
    conn: &impl ConnectionTrait,
    holdings_of: Option<&[&[Ipv4Range]]>,
    claimed: &[(Option<i64>, &[Ipv4Range])],
    (receipt_orgs, since): (&[i64], time::Date),
    ids: &[i64],
) -> Result<RuleReads, DbErr> {
    let mut batch = PackedBatch::default();
    let holdings = holdings_of.map(|sets| {
        let reads: Vec<_> = holdings_touching_statements(conn, sets)
            .into_iter()
            .map(|stmt| batch.add(stmt, HOLDING_COLUMNS))
            .collect();
        (sets, reads)
    });
    let claims: Vec<_> = claims_statements(conn, claimed)
        .into_iter()
        .map(|stmt| batch.add(stmt, CLAIM_COLUMNS))
        .collect();
    let receipts = (!receipt_orgs.is_empty()).then(|| {
        batch.add(
            receipts_statement(conn, receipt_orgs, since),
            HOLDING_COLUMNS,
        )
    });
    let exceptions =
        (!ids.is_empty()).then(|| batch.add(exceptions_statement(conn, ids), EXCEPTION_COLUMNS));
    let rows = batch.run(conn).await?;
    let holdings_of_reads = |reads: &[super::packed::ReadId]| -> Result<Vec<_>, DbErr> {
        let mut found = Vec::new();
        for read in reads {
            for row in rows.take::<HoldingRow>(*read)? {
                found.push(holding_of_row(row)?);
            }
        }
        Ok(found)
    };
    let mut in_flight = ClaimsInFlight::new(claimed);
    for (c, read) in claims.into_iter().enumerate() {
        in_flight.add(c, rows.take(read)?)?;
    }
    Ok(RuleReads {
        holdings: match holdings {
            Some((sets, reads)) => Some(holdings_per_set(holdings_of_reads(&reads)?, sets)),
            None => None,
        },
        in_flight: in_flight.out,
        receipts: match receipts {
            Some(read) => holdings_of_reads(&[read])?
                .into_iter()
                .map(|(_, facts)| facts)
                .collect(),
            None => Vec::new(),
        },
        exceptions: match exceptions {
            Some(read) => exceptions_by_transfer(rows.take(read)?),
            None => Default::default(),
        },
    })
}

/// Overrides recorded for a transfer, as (rule id, reason).
pub async fn overrides(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Vec<finding_override::Model>, DbErr> {
    finding_override::Entity::find()
        .filter(finding_override::Column::TransferId.eq(id))
        .order_by_asc(finding_override::Column::Id)
        .all(conn)
        .await
}

/// The timeline of a transfer, oldest first.
pub async fn history(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Vec<transfer_event::Model>, DbErr> {
    transfer_event::Entity::find()
        .filter(transfer_event::Column::TransferId.eq(id))
        .order_by_asc(transfer_event::Column::Id)
        .all(conn)
        .await
}

/// A document's particulars, without its content.
#[derive(Debug, Clone)]
pub struct DocumentInfo {
    pub id: i64,
    pub kind: String,
    pub filename: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_at: time::OffsetDateTime,
}

/// The documents of a transfer in upload order; their bytes stay in the database.
pub async fn documents(conn: &impl ConnectionTrait, id: i64) -> Result<Vec<DocumentInfo>, DbErr> {
    use sea_orm::QuerySelect;
    let rows: Vec<(i64, String, String, i64, String, time::OffsetDateTime)> =
        document::Entity::find()
            .select_only()
            .columns([
                document::Column::Id,
                document::Column::Kind,
                document::Column::Filename,
                document::Column::SizeBytes,
                document::Column::Sha256,
                document::Column::CreatedAt,
            ])
            .filter(document::Column::TransferId.eq(id))
            .order_by_asc(document::Column::Id)
            .into_tuple()
            .all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, kind, filename, size_bytes, sha256, uploaded_at)| DocumentInfo {
                id,
                kind,
                filename,
                size_bytes,
                sha256,
                uploaded_at,
            },
        )
        .collect())
}

/// A document to hand out: its name as uploaded, its type and its bytes.
pub struct DocumentFile {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// Document `doc` of transfer `id`, if the transfer has it.
pub async fn document_file(
    conn: &impl ConnectionTrait,
    id: i64,
    doc: i64,
) -> Result<Option<DocumentFile>, DbErr> {
    Ok(document::Entity::find_by_id(doc)
        .filter(document::Column::TransferId.eq(id))
        .one(conn)
        .await?
        .map(|d| DocumentFile {
            filename: d.filename,
            content_type: d.content_type,
            content: d.content,
        }))
}

/// The fee lines of a transfer, in the order they were billed.
pub async fn fee_lines(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Vec<fee_line::Model>, DbErr> {
    fee_line::Entity::find()
        .filter(fee_line::Column::TransferId.eq(id))
        .order_by_asc(fee_line::Column::Id)
        .all(conn)
        .await
}

/// A holding one of a transfer's blocks touches, with its holder's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldBy {
    pub holding: HoldingFacts,
    pub holder: String,
}

/// Everything shown of one transfer (the transfer page, the API's transfer), read together.
pub struct Details {
    pub transfer: Loaded,
    /// Registry handles of the two parties, by organisation id.
    pub handles: std::collections::HashMap<i64, String>,
    pub overrides: Vec<finding_override::Model>,
    pub documents: Vec<DocumentInfo>,
    pub fees: Vec<fee_line::Model>,
    /// The timeline, oldest first.
    pub history: Vec<transfer_event::Model>,
    /// The holdings its blocks touch; `None` unless asked for (for those who review).
    pub holdings: Option<Vec<HeldBy>>,
}

/// Reads what is shown of a transfer: `None` when it does not exist or `visible` refuses it,
/// in which case nothing of it is returned (on SQLite its records come in the same statement
/// as the transfer, [`shown_sqlite`]; elsewhere nothing more than the transfer is read).
pub async fn details(
    conn: &impl ConnectionTrait,
    id: i64,
    with_holdings: bool,
    visible: impl FnOnce(&Loaded) -> bool,
) -> Result<Option<Details>, DbErr> {
    let (transfer, orgs, records, held) = if conn.get_database_backend() == DatabaseBackend::Sqlite
    {
        match shown_sqlite(conn, id, with_holdings).await? {
            Some((transfer, orgs, records, held)) => (transfer, orgs, Some(records), held),
            None => return Ok(None),
        }
    } else {
        let Some(row) = transfer::Entity::find_by_id(id).one(conn).await? else {
            return Ok(None);
        };
        let (mut loaded, orgs) = load_with_parties(conn, vec![row]).await?;
        let transfer = loaded
            .pop()
            .ok_or_else(|| corrupt(format!("transfer {id} was read but not loaded")))?;
        (transfer, orgs, None, None)
    };
    if !visible(&transfer) {
        return Ok(None);
    }
    let holdings = match held {
        Some(held) => Some(held),
        None if with_holdings => Some(held_by_touching(conn, &transfer.facts.blocks).await?),
        None => None,
    };
    let Records {
        overrides,
        documents,
        fees,
        history,
    } = match records {
        Some(records) => records,
        None => packed_records(conn, id).await?,
    };
    Ok(Some(Details {
        handles: orgs.into_values().map(|o| (o.id, o.handle)).collect(),
        overrides,
        documents,
        fees,
        history,
        holdings,
        transfer,
    }))
}

/// A transfer loaded with its parties' organisations, its [`Records`] and, `with_holdings`, the
/// holdings its blocks touch ([`held_by_touching`]), as ONE statement on SQLite (the transfer
/// a table its parts are read from, as a page's are in [`loaded_page_sqlite`], and the rest
/// beside): four statements were four hand-offs to SQLite's worker thread. `None` when there
/// is no such transfer.
async fn shown_sqlite(
    conn: &impl ConnectionTrait,
    id: i64,
    with_holdings: bool,
) -> Result<
    Option<(
        Loaded,
        std::collections::HashMap<i64, organisation::Model>,
        Records,
        Option<Vec<HeldBy>>,
    )>,
    DbErr,
> {
    let backend = DatabaseBackend::Sqlite;
    let this = Statement::from_sql_and_values(
        backend,
        "SELECT * FROM transfers WHERE id = ?",
        [id.into()],
    );
    let mut batch = PackedBatch::reading_from("shown", this);
    let shown = ShownReads::added(&mut batch, backend);
    let records = record_reads(backend).map(|(columns, table)| {
        let stmt = Statement::from_sql_and_values(
            backend,
            format!("SELECT * FROM {table} WHERE transfer_id = ?"),
            [id.into()],
        );
        batch.add(stmt, &columns)
    });
    // The holdings its blocks touch, probed as `holdings_touching_statements` probes them, the
    // probes read from its blocks.
    let held = with_holdings.then(|| {
        let touching = Statement::from_string(
            backend,
            holdings_touching_sqlite(
                "SELECT start_addr, end_addr FROM transfer_blocks \
                 WHERE transfer_id IN (SELECT id FROM shown)",
            ),
        );
        batch.add(with_holder_names(touching), &held_columns())
    });
    let packed = batch.run(conn).await?;
    let (mut loaded, orgs) = shown.loaded(&packed, |t| t.id)?;
    let Some(transfer) = loaded.pop() else {
        return Ok(None);
    };
    let [overrides, documents, fees, history] = records.map(|read| packed.text(read));
    let records = Records::of_packed([overrides?, documents?, fees?, history?])?;
    let held = match held {
        Some(read) => Some(held_by_of(packed.take(read)?, &transfer.facts.blocks)?),
        None => None,
    };
    Ok(Some((transfer, orgs, records, held)))
}

/// What [`details`] reads of one transfer beside it, each in id order.
struct Records {
    overrides: Vec<finding_override::Model>,
    documents: Vec<DocumentInfo>,
    fees: Vec<fee_line::Model>,
    history: Vec<transfer_event::Model>,
}

/// What [`Records`] reads, in its order: each read's columns (as the packed row carries them)
/// and its table; every read takes the transfer's own rows (`WHERE transfer_id = ...`).
/// Overrides and events are read as their models (`Deserialize`), so their columns are the
/// models' own; documents and fee lines keep their mappings in [`Records::of_packed`].
fn record_reads(backend: DatabaseBackend) -> [(String, &'static str); 4] {
    let confirmed = if backend == DatabaseBackend::Postgres {
        "confirmed::int"
    } else {
        "confirmed"
    };
    [
        (
            columns_of::<finding_override::Entity>(),
            "finding_overrides",
        ),
        (
            "id, kind, filename, size_bytes, sha256, created_at".to_owned(),
            "documents",
        ),
        (
            format!(
                "id, transfer_id, registry, payer, description, amount, currency, {confirmed}, \
                 paid_by, paid_at"
            ),
            "fee_lines",
        ),
        (columns_of::<transfer_event::Entity>(), "transfer_events"),
    ]
}

/// [`Records`] as ONE statement returning one row of four JSON arrays instead of four
/// statements, on both databases, for the reasons [`packed_parts`] gives.
async fn packed_records(conn: &impl ConnectionTrait, id: i64) -> Result<Records, DbErr> {
    let backend = conn.get_database_backend();
    let this = super::placeholder(backend, 1);
    let columns: Vec<String> = record_reads(backend)
        .iter()
        .enumerate()
        .map(|(i, (columns, table))| {
            let rows = json_rows(
                backend,
                columns,
                &format!("{table} WHERE transfer_id = {this}"),
            );
            format!("{rows} AS r{i}")
        })
        .collect();
    let sql = format!("SELECT {}", columns.join(", "));
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [id.into()]))
        .await?
        .ok_or_else(|| corrupt(format!("transfer {id}'s records: no row")))?;
    let texts = [0, 1, 2, 3].map(|i| row.try_get::<String>("", &format!("r{i}")));
    let [overrides, documents, fees, history] = texts;
    Records::of_packed([&overrides?, &documents?, &fees?, &history?])
}

impl Records {
    /// The records from their packed reads, in [`record_reads`]' order.
    fn of_packed([overrides, documents, fees, history]: [&str; 4]) -> Result<Records, DbErr> {
        type DocumentRow = (i64, String, String, i64, String, String);
        /// A fee line as its packed row carries it, by position (serde reads a struct from a
        /// JSON array in field order; SQLite's boolean as 0 or 1, the time as text).
        #[derive(serde::Deserialize)]
        struct FeeRow {
            id: i64,
            transfer_id: i64,
            registry: String,
            payer: String,
            description: String,
            amount: String,
            currency: String,
            confirmed: i64,
            paid_by: Option<i64>,
            paid_at: Option<String>,
        }
        let overrides = packed_rows(overrides, "overrides", Ok, |v: &finding_override::Model| {
            v.id
        })?;
        let documents = packed_rows(
            documents,
            "documents",
            |(id, kind, filename, size_bytes, sha256, created_at): DocumentRow| {
                Ok(DocumentInfo {
                    id,
                    kind,
                    filename,
                    size_bytes,
                    sha256,
                    uploaded_at: packed_time("document", id, &created_at)?,
                })
            },
            |v| v.id,
        )?;
        let fees = packed_rows(
            fees,
            "fees",
            |r: FeeRow| {
                Ok(fee_line::Model {
                    paid_at: r
                        .paid_at
                        .map(|t| packed_time("fee line", r.id, &t))
                        .transpose()?,
                    id: r.id,
                    transfer_id: r.transfer_id,
                    registry: r.registry,
                    payer: r.payer,
                    description: r.description,
                    amount: r.amount,
                    currency: r.currency,
                    confirmed: r.confirmed != 0,
                    paid_by: r.paid_by,
                })
            },
            |v| v.id,
        )?;
        let history = packed_rows(history, "history", Ok, |v: &transfer_event::Model| v.id)?;
        Ok(Records {
            overrides,
            documents,
            fees,
            history,
        })
    }
}

/// Which of these transfers ever reached the recipient registry's review, that is published
/// `SOURCE_INITIALIZED` (no read when `ids` is empty).
pub async fn ever_initialized(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<std::collections::HashSet<i64>, DbErr> {
    use sea_orm::QuerySelect;
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let found: Vec<i64> = transfer_event::Entity::find()
        .select_only()
        .column(transfer_event::Column::TransferId)
        .distinct()
        .filter(id_in_expr(conn.get_database_backend(), "transfer_id", ids))
        .filter(entered_an_initialized_state())
        .into_tuple()
        .all(conn)
        .await?;
    Ok(found.into_iter().collect())
}

/// An event that entered a state after the source's approval: from then on the NRO log has
/// heard of the transfer (`SOURCE_INITIALIZED`).
fn entered_an_initialized_state() -> sea_orm::sea_query::SimpleExpr {
    transfer_event::Column::ToState.is_in(crate::domain::workflow::INITIALIZED_NAMES)
}

/// Whose transfers a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Transfers in which the organisation is source or recipient.
    Organisation(i64),
    /// Transfers touching the registry on either side.
    Registry(Rir),
    Everything,
}

fn scoped(scope: Scope) -> sea_orm::Select<transfer::Entity> {
    let q = transfer::Entity::find();
    match scope {
        Scope::Organisation(org) => q.filter(
            transfer::Column::SourceOrgId
                .eq(org)
                .or(transfer::Column::RecipientOrgId.eq(org)),
        ),
        Scope::Registry(rir) => q.filter(
            transfer::Column::SourceRegistry
                .eq(rir.token())
                .or(transfer::Column::RecipientRegistry.eq(rir.token())),
        ),
        Scope::Everything => q,
    }
}

/// A page of transfers in the scope, newest first, after the transfer id `before` (keyset).
/// `open_only` leaves out completed, rejected, withdrawn and expired transfers.
pub async fn list(
    conn: &impl ConnectionTrait,
    scope: Scope,
    open_only: bool,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<transfer::Model>, DbErr> {
    let select = list_select(conn.get_database_backend(), scope, open_only, before, limit);
    transfers_selected(conn, select).await
}

fn in_scope(scope: Scope, open_only: bool) -> sea_orm::Select<transfer::Entity> {
    let q = scoped(scope);
    if open_only {
        q.filter(transfer::Column::State.is_not_in(State::TERMINAL_NAMES))
    } else {
        q
    }
}

fn list_select(
    backend: DatabaseBackend,
    scope: Scope,
    open_only: bool,
    before: Option<i64>,
    limit: u64,
) -> sea_orm::Select<transfer::Entity> {
    use sea_orm::QuerySelect;
    let page = |q: sea_orm::Select<transfer::Entity>| {
        let q = match before {
            Some(before) => q.filter(transfer::Column::Id.lt(before)),
            None => q,
        };
        let q = match open_only {
            true => q.filter(transfer::Column::State.is_not_in(State::TERMINAL_NAMES)),
            false => q,
        };
        q.order_by_desc(transfer::Column::Id).limit(limit)
    };
    // A member's or a registry's transfers are those of either side: the newest ids of each
    // side, read from its `(organisation, id)` or `(registry, id)` index (migrations
    // `member_list_indexes`, `registry_list_indexes`), merged. Filtering `source = x OR
    // recipient = x` instead read every transfer newer than the member's fiftieth (PostgreSQL's
    // plan for it), or every transfer of the registry, sorted (SQLite's).
    let (source_side, recipient_side) = match scope {
        Scope::Everything => return page(scoped(scope)),
        Scope::Organisation(org) => (
            transfer::Column::SourceOrgId.eq(org),
            transfer::Column::RecipientOrgId.eq(org),
        ),
        Scope::Registry(rir) => (
            transfer::Column::SourceRegistry.eq(rir.token()),
            transfer::Column::RecipientRegistry.eq(rir.token()),
        ),
    };
    use sea_orm::QueryTrait;
    use sea_orm::sea_query::{Alias, JoinType, Order, Query, UnionType};
    let side = |on_side: sea_orm::sea_query::SimpleExpr, name: &str| {
        let ids = page(transfer::Entity::find().filter(on_side))
            .select_only()
            .column(transfer::Column::Id)
            .into_query();
        Query::select()
            .column(Alias::new("id"))
            .from_subquery(ids, Alias::new(name))
            .to_owned()
    };
    let mut ids = side(source_side, "by_source");
    if backend == DatabaseBackend::Sqlite {
        // The rows of both sides' ids, looked up by primary key: SQLite reads the `IN` list as
        // rowids, and a transfer listed on both sides is still one row.
        let ids = ids
            .union(UnionType::All, side(recipient_side, "by_recipient"))
            .to_owned();
        return transfer::Entity::find()
            .filter(transfer::Column::Id.in_subquery(ids))
            .order_by_desc(transfer::Column::Id)
            .limit(limit);
    }
    // PostgreSQL planned that `id IN (…) ORDER BY id DESC LIMIT n` as a walk of the primary key
    // backwards, each id semi-joined to the list (a merge semi join over 6,120 rows for
    // member0@arin's page, 2-3 ms, under custom and generic plans alike). So the page's ids are
    // the newest `limit` of the two sides together and the rows are joined to them, a lookup
    // each (0.1-0.2 ms). UNION, not UNION ALL: a transfer within one registry is on both of its
    // sides. SQLite's plan for this form sorts three times (0.23 -> 0.27 ms).
    let page_ids = ids
        .union(UnionType::Distinct, side(recipient_side, "by_recipient"))
        .order_by(Alias::new("id"), Order::Desc)
        .limit(limit)
        .to_owned();
    let mut q = transfer::Entity::find();
    QueryTrait::query(&mut q).join_subquery(
        JoinType::InnerJoin,
        page_ids,
        Alias::new("page"),
        Expr::col((transfer::Entity, transfer::Column::Id))
            .equals((Alias::new("page"), Alias::new("id"))),
    );
    q.order_by_desc(transfer::Column::Id).limit(limit)
}

/// [`list`] loaded ([`load_many`]) and [`count`], as [`page_beside`] reads them.
pub async fn list_page(
    conn: &impl ConnectionTrait,
    scope: Scope,
    open_only: bool,
    before: Option<i64>,
    limit: u64,
) -> Result<(Vec<Loaded>, u64), DbErr> {
    use sea_orm::{QuerySelect, QueryTrait};
    let count_select = in_scope(scope, open_only)
        .select_only()
        .column_as(Expr::cust("COUNT(*)"), "total")
        .build(conn.get_database_backend());
    let page = list_select(conn.get_database_backend(), scope, open_only, before, limit);
    Ok(
        match page_beside(conn, page, count_select, "total").await? {
            (rows, Some(total)) => (rows, u64::try_from(total).unwrap_or(0)),
            (rows, None) => (rows, count(conn, scope, open_only).await?),
        },
    )
}

/// The transfers' revision (migration `transfer_revision`): triggers move it with every new
/// transfer and every change of state, in the writing transaction, so a total counted beside it
/// holds for as long as it is unchanged.
const REVISION: &str = "SELECT revision FROM revisions WHERE name = 'transfers'";

/// [`list`] loaded ([`load_many`]) and the transfers' revision, as [`page_beside`] reads them:
/// for a total kept from an earlier view (`services::transfer_access::ListTotals`). `None` for
/// the revision when the page is empty on PostgreSQL.
pub async fn list_page_at_revision(
    conn: &impl ConnectionTrait,
    scope: Scope,
    open_only: bool,
    before: Option<i64>,
    limit: u64,
) -> Result<(Vec<Loaded>, Option<i64>), DbErr> {
    let revision = Statement::from_string(conn.get_database_backend(), REVISION);
    let page = list_select(conn.get_database_backend(), scope, open_only, before, limit);
    page_beside(conn, page, revision, "revision").await
}

/// How many transfers the scope holds, and the revision of the transfers they were counted at:
/// one statement, so both come from one snapshot.
pub async fn count_at_revision(
    conn: &impl ConnectionTrait,
    scope: Scope,
    open_only: bool,
) -> Result<(u64, i64), DbErr> {
    use sea_orm::QuerySelect;
    let (total, revision) = in_scope(scope, open_only)
        .select_only()
        .column_as(Expr::cust("COUNT(*)"), "total")
        .column_as(Expr::cust(format!("({REVISION})")), "revision")
        .into_tuple::<(i64, i64)>()
        .one(conn)
        .await?
        .ok_or_else(|| corrupt("counting transfers: no row".into()))?;
    Ok((u64::try_from(total).unwrap_or(0), revision))
}

/// A list's page (newest first), loaded, and one figure read beside it (`beside`, one row with
/// the integer `column`), as one statement: packed on SQLite ([`loaded_page_sqlite`]), the page
/// as rows carrying the figure and its parts on PostgreSQL ([`loaded_with_counts`]; `None` for
/// the figure when the page is empty).
async fn page_beside(
    conn: &impl ConnectionTrait,
    page: sea_orm::Select<transfer::Entity>,
    beside: Statement,
    column: &str,
) -> Result<(Vec<Loaded>, Option<i64>), DbErr> {
    use sea_orm::QueryTrait;
    let backend = conn.get_database_backend();
    let page_select = page.build(backend);
    let newest_first = |t: &transfer::Model| std::cmp::Reverse(t.id);
    if backend == DatabaseBackend::Postgres {
        let (loaded, figure) =
            loaded_with_counts(conn, page_select, newest_first, beside, [column]).await?;
        return Ok((loaded, figure.map(|[n]| n)));
    }
    let (loaded, mut figure) =
        loaded_page_sqlite::<_, (i64,)>(conn, page_select, newest_first, (beside, column)).await?;
    Ok((loaded, figure.pop().map(|(n,)| n)))
}

/// The transfers `select` returns, in its order. On SQLite they come as one packed row
/// ([`packed_select`]): a list or queue page is 50 rows of 22 columns. The order survives the
/// packing because SQLite keeps a subquery's ORDER BY when the query around it aggregates with
/// anything but count, min or max (the conditions of its OmitOrderBy optimisation in
/// `sqlite3.c`), and these selects have a LIMIT, which keeps it too.
async fn transfers_selected(
    conn: &impl ConnectionTrait,
    select: sea_orm::Select<transfer::Entity>,
) -> Result<Vec<transfer::Model>, DbErr> {
    use sea_orm::QueryTrait;
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        return select.all(conn).await;
    }
    packed_select(
        conn,
        select.build(DatabaseBackend::Sqlite),
        &columns_of::<transfer::Entity>(),
    )
    .await
}

/// How many transfers the scope holds.
pub async fn count(
    conn: &impl ConnectionTrait,
    scope: Scope,
    open_only: bool,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    in_scope(scope, open_only).count(conn).await
}

/// Where a page of the queue starts: after the step of transfer `id`, last changed at
/// `updated_at` (the order of the queue), so a step that leaves the queue meanwhile moves no
/// other step to another page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueueCursor {
    pub updated_at: time::OffsetDateTime,
    pub id: i64,
}

/// A cursor in a link: the nanoseconds since 1970 and the transfer id, `1796032800123456000.42`.
impl std::fmt::Display for QueueCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.updated_at.unix_timestamp_nanos(), self.id)
    }
}

impl std::str::FromStr for QueueCursor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "'{s}' is not a place in the queue: open the queue again and follow its link \
                 to the next page (or, in the API, pass the previous page's next_after)"
            )
        };
        let (nanos, id) = s.split_once('.').ok_or_else(bad)?;
        let nanos: i128 = nanos.parse().map_err(|_| bad())?;
        let updated_at =
            time::OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| bad())?;
        let id = id.parse().map_err(|_| bad())?;
        Ok(QueueCursor { updated_at, id })
    }
}

/// The stored names of the states in which a step waits on the hostmasters of `side`'s
/// registry ([`State::HOSTMASTER_STEP_NAMES`], which [`migration::QUEUE_REGISTRY`] spells out
/// for the queue's index). A state waits on one side only, so the two sides' counts add up.
fn hostmaster_steps(side: Side) -> Vec<&'static str> {
    State::HOSTMASTER_STEP_NAMES
        .into_iter()
        .filter(|(_, on)| *on == side)
        .map(|(name, _)| name)
        .collect()
}

/// Steps after the cursor in `(updated_at, id)` order, written so that `updated_at >= ?`
/// bounds the range of the queue's index.
fn after_cursor(c: QueueCursor) -> sea_orm::Condition {
    use sea_orm::Condition;
    Condition::all()
        .add(transfer::Column::UpdatedAt.gte(c.updated_at))
        .add(
            Condition::any()
                .add(transfer::Column::UpdatedAt.gt(c.updated_at))
                .add(transfer::Column::Id.gt(c.id)),
        )
}

/// A page of a registry's queue, oldest waiting first, after `after` when given.
pub async fn queue(
    conn: &impl ConnectionTrait,
    rir: Rir,
    after: Option<QueueCursor>,
    limit: u64,
) -> Result<Vec<transfer::Model>, DbErr> {
    use sea_orm::QuerySelect;
    transfers_selected(conn, queue_select(rir, after).limit(limit)).await
}

/// The page's statement: one range of the index `transfers_queue` (migration
/// `queue_order_index`, keyed by [`migration::QUEUE_REGISTRY`], the very expression compared
/// here), read in `(updated_at, id)` order and stopped at the LIMIT. Reading the two sides'
/// indexes instead fetched and sorted every waiting step of the registry (950 for ARIN on the
/// scale data set): SQLite 0.43 -> 0.19 ms a page merged from per-state branches, PostgreSQL
/// 0.38-0.5 ms with a top-N sort; this range 0.12 and 0.03-0.09 (`EXPLAIN ANALYZE`). The
/// callers set the limit ([`queue_page`] writes it into PostgreSQL's statement).
fn queue_select(rir: Rir, after: Option<QueueCursor>) -> sea_orm::Select<transfer::Entity> {
    let mut q =
        transfer::Entity::find().filter(Expr::cust(migration::QUEUE_REGISTRY).eq(rir.token()));
    if let Some(c) = after {
        q = q.filter(after_cursor(c));
    }
    q.order_by_asc(transfer::Column::UpdatedAt)
        .order_by_asc(transfer::Column::Id)
}

/// What a hostmaster's queue counts: the steps waiting on the registry, those that have waited
/// since `overdue_since` or longer, and the oldest wait among the others (when the overdue count
/// will next grow, a service level later), to the second below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCounts {
    pub waiting: u64,
    pub overdue: u64,
    pub next_overdue: Option<time::OffsetDateTime>,
}

/// The [`QueueCounts`] of a registry, in one statement.
pub async fn queue_counts(
    conn: &impl ConnectionTrait,
    rir: Rir,
    overdue_since: time::OffsetDateTime,
) -> Result<QueueCounts, DbErr> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(backend.build(&queue_counts_select(backend, rir, overdue_since)))
        .await?;
    Ok(match row {
        Some(row) => {
            let [waiting, overdue, next] =
                QUEUE_COUNTS.map(|column| row.try_get::<i64>("", column));
            counted(waiting?, overdue?, next?)
        }
        None => counted(0, 0, NOT_OVERDUE),
    })
}

/// The columns of [`queue_counts_select`].
const QUEUE_COUNTS: [&str; 3] = ["waiting", "overdue", "next_overdue"];

/// `next_overdue` when no step waits short of the service level.
const NOT_OVERDUE: i64 = i64::MAX;

/// `(waiting, overdue, next_overdue)` in one statement, counted on each side of the registry and
/// summed: each side is one range of its queue index, read alone (index-only on PostgreSQL,
/// where the `OR` of both sides read every waiting row from the table: 0.5 -> 0.17 ms; 0.15 ->
/// 0.085 ms on SQLite). `COUNT(CASE WHEN overdue THEN 1 END)` counts the overdue among them;
/// `next_overdue` is the oldest other wait in Unix seconds, rounded down.
fn queue_counts_select(
    backend: DatabaseBackend,
    rir: Rir,
    overdue_since: time::OffsetDateTime,
) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Alias, CaseStatement, Func, Query, SimpleExpr, UnionType};
    let seconds = match backend {
        DatabaseBackend::Postgres => "CAST(floor(extract(epoch FROM updated_at)) AS BIGINT)",
        _ => "CAST(strftime('%s', updated_at) AS INTEGER)",
    };
    let side = |column: transfer::Column, side: Side| {
        let overdue = CaseStatement::new().case(transfer::Column::UpdatedAt.lte(overdue_since), 1);
        let not_yet = CaseStatement::new().case(
            transfer::Column::UpdatedAt.gt(overdue_since),
            Expr::cust(seconds),
        );
        Query::select()
            .expr_as(Expr::cust("COUNT(*)"), Alias::new("waiting"))
            .expr_as(
                SimpleExpr::from(Func::count(overdue)),
                Alias::new("overdue"),
            )
            .expr_as(
                SimpleExpr::from(Func::min(not_yet)),
                Alias::new("next_overdue"),
            )
            .from(transfer::Entity)
            .and_where(Expr::col(column).eq(rir.token()))
            .and_where(Expr::col(transfer::Column::State).is_in(hostmaster_steps(side)))
            .to_owned()
    };
    let mut sides = side(transfer::Column::SourceRegistry, Side::Source);
    sides.union(
        UnionType::All,
        side(transfer::Column::RecipientRegistry, Side::Recipient),
    );
    // SUM of counts is a numeric on PostgreSQL; the cast keeps it an integer on both.
    Query::select()
        .expr_as(
            Expr::cust("CAST(SUM(waiting) AS BIGINT)"),
            Alias::new("waiting"),
        )
        .expr_as(
            Expr::cust("CAST(SUM(overdue) AS BIGINT)"),
            Alias::new("overdue"),
        )
        .expr_as(
            Expr::cust(format!(
                "CAST(COALESCE(MIN(next_overdue), {NOT_OVERDUE}) AS BIGINT)"
            )),
            Alias::new("next_overdue"),
        )
        .from_subquery(sides, Alias::new("c"))
        .to_owned()
}

fn counted(waiting: i64, overdue: i64, next_overdue: i64) -> QueueCounts {
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    QueueCounts {
        waiting: count(waiting),
        overdue: count(overdue),
        next_overdue: (next_overdue != NOT_OVERDUE)
            .then(|| time::OffsetDateTime::from_unix_timestamp(next_overdue).ok())
            .flatten(),
    }
}

/// [`queue`] loaded ([`load_many`]) and [`queue_counts`], as one statement: packed on SQLite
/// ([`loaded_page_sqlite`]), the page as rows carrying the counts and its parts on PostgreSQL
/// ([`loaded_with_counts`]).
pub async fn queue_page(
    conn: &impl ConnectionTrait,
    rir: Rir,
    after: Option<QueueCursor>,
    limit: u64,
    overdue_since: time::OffsetDateTime,
) -> Result<(Vec<Loaded>, QueueCounts), DbErr> {
    use sea_orm::{QuerySelect, QueryTrait};
    let backend = conn.get_database_backend();
    let counts_select = backend.build(&queue_counts_select(backend, rir, overdue_since));
    let oldest_first = |t: &transfer::Model| (t.updated_at, t.id);
    if backend == DatabaseBackend::Postgres {
        // The page size written into the statement, not bound: PostgreSQL costs a generic plan
        // with `LIMIT $n` as if a tenth of the queue were read, so its plan for the values
        // given always looked cheaper and it planned every view anew (`bind` 0.46-0.59 ms
        // under load, the execution 0.2 ms). With the limit known it keeps the generic plan.
        let unlimited = queue_select(rir, after).build(backend);
        let page_select = Statement {
            sql: format!("{} LIMIT {limit}", unlimited.sql),
            ..unlimited
        };
        return Ok(
            match loaded_with_counts(conn, page_select, oldest_first, counts_select, QUEUE_COUNTS)
                .await?
            {
                (page, Some([waiting, overdue, next])) => (page, counted(waiting, overdue, next)),
                (page, None) => (page, queue_counts(conn, rir, overdue_since).await?),
            },
        );
    }
    let page_select = queue_select(rir, after).limit(limit).build(backend);
    let beside = (counts_select, "waiting, overdue, next_overdue");
    let (loaded, mut counts) =
        loaded_page_sqlite::<_, (i64, i64, i64)>(conn, page_select, oldest_first, beside).await?;
    let (waiting, overdue, next) = counts.pop().unwrap_or((0, 0, NOT_OVERDUE));
    Ok((loaded, counted(waiting, overdue, next)))
}

/// A page of transfers, loaded, and the counts shown above it (or the transfers' revision that
/// a kept count is checked against) as one PostgreSQL statement. The page is a materialized CTE
/// (`shown`) that comes as rows (JSON is dear there for 50 rows of 22 columns); the counts are
/// computed once (a materialized CTE) and carried on each row, so they cost no round trip of
/// their own; the page's parts ([`Parts`], read from `shown`) are three JSON columns of one of
/// its rows, the lowest id's (`NULL` on the others), where they were a statement after it. Each
/// count and each part is its own uncorrelated subquery, which PostgreSQL runs once: joined
/// instead, the counting ran again for every row under a generic plan (51 times a member's
/// list). The CTE keeps no order, so the page is sorted here by `order`, the key of its ORDER
/// BY. An empty page has no row to carry the counts: then `None`, and the caller counts alone.
async fn loaded_with_counts<const N: usize, K: Ord>(
    conn: &impl ConnectionTrait,
    page: Statement,
    order: impl Fn(&transfer::Model) -> K,
    counts: Statement,
    columns: [&str; N],
) -> Result<(Vec<Loaded>, Option<[i64; N]>), DbErr> {
    use sea_orm::FromQueryResult;
    let backend = DatabaseBackend::Postgres;
    let mut values = page.values.map(|v| v.0).unwrap_or_default();
    let carried: Vec<String> = columns
        .iter()
        .map(|c| format!("(SELECT {c} FROM c) AS {c}"))
        .collect();
    let part = |name: &str, (columns, from): (&str, String)| {
        format!(
            "CASE WHEN p.id = (SELECT min(id) FROM shown) THEN {} END AS {name}",
            json_rows(backend, columns, &from)
        )
    };
    let [orgs, blocks, kinds] = parts_of_shown(backend);
    let parts = [
        part("part_orgs", orgs),
        part("part_blocks", blocks),
        part("part_kinds", kinds),
    ];
    let sql = format!(
        "WITH c AS MATERIALIZED ({}), shown AS MATERIALIZED ({}) \
         SELECT p.*, {}, {} FROM shown p",
        super::packed::renumbered(&counts.sql, values.len()),
        page.sql,
        carried.join(", "),
        parts.join(", "),
    );
    values.extend(counts.values.map(|v| v.0).unwrap_or_default());
    let stmt = Statement::from_sql_and_values(backend, sql, values);
    let mut found = None;
    let mut packed_parts = None;
    let mut rows = Vec::new();
    for row in conn.query_all_raw(stmt).await? {
        if found.is_none() {
            let mut counted = [0; N];
            for (n, column) in counted.iter_mut().zip(columns) {
                *n = row.try_get::<i64>("", column)?;
            }
            found = Some(counted);
        }
        if let Some(orgs) = row.try_get::<Option<String>>("", "part_orgs")? {
            let text = |column: &str| -> Result<String, DbErr> { row.try_get("", column) };
            packed_parts = Some(Parts::of_packed(
                super::packed::parse(&orgs, "part_orgs")?,
                super::packed::parse(&text("part_blocks")?, "part_blocks")?,
                super::packed::parse(&text("part_kinds")?, "part_kinds")?,
            )?);
        }
        rows.push(transfer::Model::from_query_result(&row, "")?);
    }
    if rows.is_empty() {
        return Ok((Vec::new(), found));
    }
    let parts =
        packed_parts.ok_or_else(|| corrupt("a page of transfers came without its parts".into()))?;
    rows.sort_unstable_by_key(|t| order(t));
    Ok((assembled(rows, parts)?.0, found))
}

/// The blocks of several transfers, by transfer id, in address order.
async fn blocks_of(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<Ipv4Range>>, DbErr> {
    let mut out: std::collections::HashMap<i64, Vec<Ipv4Range>> = Default::default();
    if ids.is_empty() {
        return Ok(out);
    }
    for b in transfer_block::Entity::find()
        .filter(id_in_expr(conn.get_database_backend(), "transfer_id", ids))
        .order_by_asc(transfer_block::Column::StartAddr)
        .all(conn)
        .await?
    {
        out.entry(b.transfer_id)
            .or_default()
            .push(range_of(b.start_addr, b.end_addr)?);
    }
    Ok(out)
}

/// An inter-RIR transfer that is not completed, with what a transfer log shows of it.
#[derive(Debug, Clone)]
pub struct OpenTransfer {
    pub row: transfer::Model,
    pub state: State,
    pub blocks: Vec<Ipv4Range>,
    /// The state each of its events entered, with the time, oldest first.
    pub history: Vec<(String, time::OffsetDateTime)>,
    pub source: organisation::Model,
    pub recipient: organisation::Model,
}

/// Up to `limit` inter-RIR transfers after id `after` that are not completed (in flight or
/// cancelled) and have published a status, in id order, each with its history (the state each
/// event entered, oldest first): what the 5.0 transfer log publishes besides the ledger.
/// Completed transfers are in the ledger.
///
/// "Published" is having entered a state after the source's approval (the condition of
/// [`ever_initialized`]): without one, [`crate::domain::workflow::published_status`] of an
/// unfinished transfer is `None` and the log has nothing to say of it. Most open transfers have
/// not (on the scale set 480 of 4,880), and reading their rows, events, blocks and parties only
/// to drop them was most of the 5.0 log's extra time.
pub async fn unfinished_inter_rir_page(
    conn: &impl ConnectionTrait,
    after: i64,
    limit: u64,
) -> Result<Vec<OpenTransfer>, DbErr> {
    use sea_orm::QuerySelect;
    use std::collections::HashMap;
    use time::OffsetDateTime;
    use transfer::Column as C;
    let rows = transfer::Entity::find()
        .filter(C::Id.gt(after))
        .filter(Expr::col(C::SourceRegistry).ne(Expr::col(C::RecipientRegistry)))
        .filter(C::State.ne("completed"))
        .filter(Expr::exists(
            sea_orm::sea_query::Query::select()
                .expr(Expr::val(1))
                .from(transfer_event::Entity)
                .and_where(
                    Expr::col((transfer_event::Entity, transfer_event::Column::TransferId))
                        .equals((transfer::Entity, C::Id)),
                )
                .and_where(entered_an_initialized_state())
                .to_owned(),
        ))
        .order_by_asc(C::Id)
        .limit(limit)
        .all(conn)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
    let mut history: HashMap<i64, Vec<(String, OffsetDateTime)>> = HashMap::new();
    for (transfer_id, to_state, at) in transfer_event::Entity::find()
        .select_only()
        .column(transfer_event::Column::TransferId)
        .column(transfer_event::Column::ToState)
        .column(transfer_event::Column::CreatedAt)
        .filter(id_in_expr(conn.get_database_backend(), "transfer_id", &ids))
        .order_by_asc(transfer_event::Column::Id)
        .into_tuple::<(i64, String, OffsetDateTime)>()
        .all(conn)
        .await?
    {
        history.entry(transfer_id).or_default().push((to_state, at));
    }
    let mut blocks = blocks_of(conn, &ids).await?;
    // The parties by their ids, each once: a few hundred at most (two subqueries here made
    // PostgreSQL scan every organisation).
    let org_ids: std::collections::BTreeSet<i64> = rows
        .iter()
        .flat_map(|t| [t.source_org_id, t.recipient_org_id])
        .collect();
    let org_ids: Vec<i64> = org_ids.into_iter().collect();
    let orgs = organisations_by_id(conn, &org_ids).await?;
    rows.into_iter()
        .map(|row| {
            let state = State::from_parts(&row.state, row.state_data.as_deref())
                .map_err(|e| DbErr::Custom(format!("transfer {}: {e}", row.id)))?;
            let org = |id: i64| {
                orgs.get(&id)
                    .cloned()
                    .ok_or_else(|| DbErr::Custom(format!("organisation {id} is missing")))
            };
            Ok(OpenTransfer {
                blocks: blocks.remove(&row.id).unwrap_or_default(),
                history: history.remove(&row.id).unwrap_or_default(),
                source: org(row.source_org_id)?,
                recipient: org(row.recipient_org_id)?,
                state,
                row,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::QueueCursor;
    use time::macros::datetime;

    #[test]
    fn a_queue_cursor_reads_back_from_its_link() {
        let c = QueueCursor {
            updated_at: datetime!(2026-11-30 10:00:00.123456 UTC),
            id: 42,
        };
        assert_eq!(c.to_string(), "1796032800123456000.42");
        assert_eq!(c.to_string().parse::<QueueCursor>(), Ok(c));
        for bad in [
            "",
            "42",
            "x.42",
            "1796032800123456000.",
            "1.2.3",
            "99999999999999999999999999.1",
        ] {
            let err = bad.parse::<QueueCursor>().unwrap_err();
            assert!(err.contains("is not a place in the queue"), "{bad}: {err}");
        }
    }
}
