//! The production-scale data set (`ipxfer seed scale`): the five registries' holdings, a ledger
//! of imported and finalized transfers, and open transfers in every waiting state and registry
//! pair, built through the same import and transfer services as real data (generated
//! delegated-extended files and an NRO transfer log go through `services::import`; transfers are
//! filed, accepted, reviewed and finalized through `services::transfers`). It exists to measure
//! pages at the size the registries would run ipxfer (`.ci/load-test`, `docs/performance.md`).
//!
//! Everything follows from the sizes and the seed: the same flags give the same organisations,
//! blocks and transfers (timestamps are relative to the time of seeding, so that deadlines lie
//! ahead of the transfers still waiting).

use std::fmt::Write as _;

use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use time::{Duration, OffsetDateTime};

use crate::config::Settings;
use crate::db::entities::{organisation, user};
use crate::db::organisations as orgs_db;
use crate::db::users::{self as users_db, NewUser};
use crate::domain::authz::{Actor, Role};
use crate::domain::transfer::{DocumentKind, NeedJustification};
use crate::domain::transfer::{OrgId, UserId};
use crate::domain::{Ipv4Range, Rir, Side, TransferType};
use crate::error::{AppError, AppResult};
use crate::services::demo::{self, DEMO_PASSWORD};
use crate::services::import::{self, NoProgress};
use crate::services::transfers::{self, Command, Filing};
use crate::services::{accounts, documents};

/// The sizes of the data set; the defaults are issue 11's production scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// Holdings over the five registries.
    pub holdings: u64,
    /// Ledger entries: `finalized` of them from transfers finalized here, the rest imported.
    pub ledger: u64,
    /// Transfers finalized through the workflow (part of `ledger`).
    pub finalized: u64,
    /// Open transfers.
    pub open: u64,
    /// Member organisations (each with one signed-in member), spread over the registries.
    pub members: u64,
    /// Seed of the generator.
    pub seed: u64,
}

impl Default for Scale {
    fn default() -> Self {
        Scale {
            holdings: 250_000,
            ledger: 60_000,
            finalized: 500,
            open: 10_000,
            members: 200,
            seed: 11,
        }
    }
}

/// Where each registry's generated space starts (a /8 of its own, clear of special-purpose and
/// restricted space) and its holders' country.
const SPACE: [(Rir, u32, &str); 5] = [
    (Rir::Afrinic, 41, "ZA"),
    (Rir::Apnic, 58, "JP"),
    (Rir::Arin, 24, "US"),
    (Rir::Lacnic, 177, "BR"),
    (Rir::RipeNcc, 31, "DE"),
];

/// Holdings per member organisation: enough for its share of open and finalized transfers.
fn per_member(scale: &Scale) -> u64 {
    let members = scale.members.max(1);
    (scale.open + scale.finalized).div_ceil(members) + 2
}

/// A small deterministic generator (SplitMix64). Not the `rand` crate: its generators do not
/// promise the same sequence across versions, and the data set must not change with a lockfile.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The /24 that is the `index`th holding of a registry.
fn holding_block(registry: usize, index: u64) -> AppResult<Ipv4Range> {
    let base = SPACE[registry].1 << 24;
    let start = u32::try_from(index)
        .ok()
        .and_then(|i| i.checked_mul(256))
        .filter(|offset| *offset < (1 << 24))
        .map(|offset| base + offset)
        .ok_or_else(|| AppError::invalid("too many holdings: each registry has one /8"))?;
    Ipv4Range::new(start, start + 255).map_err(|e| AppError::Internal(e.into()))
}

/// The opaque id of a holding's holder: the first holdings belong to member organisations, the
/// rest to three-holding organisations.
fn holder(registry: usize, index: u64, members: u64, per_member: u64) -> String {
    let token = SPACE[registry].0.token();
    let member_holdings = members * per_member;
    if index < member_holdings {
        format!("{token}-member-{}", index / per_member)
    } else {
        format!("{token}-holder-{}", (index - member_holdings) / 3)
    }
}

/// The delegated-extended file of one registry.
fn delegated_file(scale: &Scale, registry: usize, rng: &mut SplitMix) -> AppResult<String> {
    let (rir, _, country) = SPACE[registry];
    let count = scale.holdings / 5 + u64::from((registry as u64) < scale.holdings % 5);
    let members = members_of(scale, registry);
    let per = per_member(scale);
    let token = rir.token();
    let mut out = format!(
        "2.3|{token}|20261130|{count}|19700101|20261130|+0000\n{token}|*|ipv4|*|{count}|summary\n"
    );
    for index in 0..count {
        let block = holding_block(registry, index)?;
        // Delegated between 2000 and 2018: every holding period has passed.
        let date =
            time::Date::from_ordinal_date(2000 + rng.below(19) as i32, 1 + rng.below(365) as u16)
                .map_err(|e| AppError::Internal(e.into()))?;
        let status = if rng.below(4) == 0 {
            "assigned"
        } else {
            "allocated"
        };
        let _ = writeln!(
            out,
            "{token}|{country}|ipv4|{}|256|{}|{status}|{}|e-stats",
            std::net::Ipv4Addr::from(block.start()),
            date.format(time::macros::format_description!("[year][month][day]"))
                .map_err(|e| AppError::Internal(e.into()))?,
            holder(registry, index, members, per)
        );
    }
    Ok(out)
}

/// How many member organisations a registry has.
fn members_of(scale: &Scale, registry: usize) -> u64 {
    scale.members / 5 + u64::from((registry as u64) < scale.members % 5)
}

/// An NRO transfer log (4.0) with `entries` historic transfers between the registries' blocks.
fn transfer_log(scale: &Scale, entries: u64, rng: &mut SplitMix) -> AppResult<Vec<u8>> {
    let mut transfers = Vec::with_capacity(entries as usize);
    let per_registry = (scale.holdings / 5).max(1);
    for i in 0..entries {
        let source = (i % 5) as usize;
        let recipient = if rng.below(3) == 0 {
            (source + 1 + rng.below(4) as usize) % 5
        } else {
            source
        };
        // Spread over the registry's holdings, so that a /16 has its share of history.
        let index = (i / 5 * 7919 + rng.below(7)) % per_registry;
        let block = holding_block(source, index)?;
        let day = time::Date::from_ordinal_date(2010, 1)
            .map_err(|e| AppError::Internal(e.into()))?
            + Duration::days((i % 5_000) as i64);
        // One transfer per second of the day keeps (range, registries, date) unique.
        let date = format!(
            "{day}T{:02}:{:02}:{:02}Z",
            i / 5_000 / 3600 % 24,
            i / 5_000 / 60 % 60,
            i / 5_000 % 60
        );
        transfers.push(serde_json::json!({
            "ip4nets": {
                "original_set": [{ "start_address": std::net::Ipv4Addr::from(block.start()).to_string(),
                                   "end_address": std::net::Ipv4Addr::from(block.end()).to_string() }],
                "transfer_set": [{ "start_address": std::net::Ipv4Addr::from(block.start()).to_string(),
                                   "end_address": std::net::Ipv4Addr::from(block.end()).to_string() }]
            },
            "source_organization": { "name": format!("Historic holder {}", i % 997), "country_code": SPACE[source].2 },
            "recipient_organization": { "name": format!("Historic recipient {}", i % 991), "country_code": SPACE[recipient].2 },
            "source_rir": SPACE[source].0.nro_name(),
            "recipient_rir": SPACE[recipient].0.nro_name(),
            "source_registration_date": "2005-01-01T00:00:00Z",
            "transfer_date": date,
            "type": "RESOURCE_TRANSFER",
        }));
    }
    let log = serde_json::json!({
        "version": {
            "UTC_offset": 0,
            "producer": "NRO",
            "production_date": "2026-11-30T00:00:00Z",
            "records_interval": { "start_date": "2010-01-01T00:00:00Z", "end_date": "2026-11-30T00:00:00Z" },
            "stats_version": "4.0"
        },
        "transfers": transfers,
    });
    serde_json::to_vec(&log).map_err(|e| AppError::Internal(e.into()))
}

/// The generated files the data set imports, as `seed` generates them: the five registries'
/// delegated-extended files and the NRO transfer log of `ledger - finalized` entries. For
/// measuring the bulk paths alone (`examples/bulk_paths.rs`).
pub fn import_files(scale: &Scale) -> AppResult<(Vec<String>, Vec<u8>)> {
    let mut rng = SplitMix(scale.seed);
    let files = (0..5)
        .map(|registry| delegated_file(scale, registry, &mut rng))
        .collect::<AppResult<Vec<_>>>()?;
    let log = transfer_log(
        scale,
        scale.ledger.saturating_sub(scale.finalized),
        &mut rng,
    )?;
    Ok((files, log))
}

/// One signed-in person of the data set, for the load test to sign in as.
#[derive(Debug, Clone)]
pub struct ScaleUser {
    pub role: &'static str,
    pub email: String,
}

/// What was seeded.
#[derive(Debug, Clone, Default)]
pub struct ScaleReport {
    pub holdings: u64,
    pub organisations: u64,
    pub ledger_entries: u64,
    pub open_transfers: u64,
    pub users: Vec<ScaleUser>,
}

/// A member organisation of the data set and the member who acts for it.
#[derive(Clone, Copy)]
struct Member {
    org_id: i64,
    registry: Rir,
    registry_index: usize,
    /// Its index among its registry's members (which holdings are its).
    index: u64,
    actor: Actor,
}

/// Seeds the data set into an empty database; a database with organisations or users is refused.
pub async fn seed(
    db: &DatabaseConnection,
    settings: &Settings,
    scale: Scale,
    now: OffsetDateTime,
    log: &dyn Fn(&str),
) -> AppResult<ScaleReport> {
    let orgs = organisation::Entity::find().count(db).await?;
    let users = user::Entity::find().count(db).await?;
    if orgs > 0 || users > 0 {
        return Err(AppError::conflict(format!(
            "this database already has {orgs} organisations and {users} users: the scale data \
             set seeds an empty database only"
        )));
    }
    if scale.finalized > scale.ledger {
        return Err(AppError::invalid("--finalized cannot exceed --ledger"));
    }
    // Generated members both receive and give space within days; the holds on the source (ARIN,
    // AFRINIC: no receipt in the last twelve months) would refuse most of the generated
    // filings, so the data set is seeded without them. Pages then serve it with the real rules.
    let mut unheld = settings.clone();
    for rir in Rir::ALL {
        unheld.profiles.get_mut(rir).holding_period.any_receipt = false;
    }
    let settings = &unheld;
    let per = per_member(&scale);
    if (0..5).any(|r| members_of(&scale, r) * per > scale.holdings / 5) {
        return Err(AppError::invalid(format!(
            "{} holdings are too few for {} members with {} open and {} finalized transfers",
            scale.holdings, scale.members, scale.open, scale.finalized
        )));
    }
    let mut rng = SplitMix(scale.seed);
    let mut report = ScaleReport::default();
    let imported_at = now - Duration::days(400);
    for registry in 0..5 {
        let file = delegated_file(&scale, registry, &mut rng)?;
        let r = import::import_delegated(db, file.as_bytes(), imported_at, &NoProgress).await?;
        report.holdings += r.holdings;
        report.organisations += r.organisations;
    }
    log(&format!("{} holdings imported", report.holdings));
    let log_bytes = transfer_log(&scale, scale.ledger - scale.finalized, &mut rng)?;
    let r = import::import_transfer_log(db, &log_bytes, imported_at).await?;
    log(&format!(
        "{} historic ledger entries imported",
        r.entries_added
    ));

    let hash = accounts::hash_password(DEMO_PASSWORD)?;
    let joined = now - Duration::days(390);
    let users = std::sync::Mutex::new(Vec::new());
    // Everyone signs in with the demo's password.
    let add = |(email, name, role): (String, &str, &'static str),
               organisation_id: Option<i64>,
               registry: Option<Rir>| {
        users
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(ScaleUser {
                role,
                email: email.clone(),
            });
        let hash = hash.clone();
        let name = name.to_owned();
        async move {
            let new = NewUser {
                email: &email,
                display_name: &name,
                role,
                organisation_id,
                registry,
                password_hash: Some(hash),
            };
            users_db::insert(db, new, joined).await
        }
    };
    let mut members = Vec::new();
    for (registry_index, (rir, _, _)) in SPACE.iter().enumerate() {
        let ids = orgs_db::ids_by_handle(db, *rir).await?;
        for index in 0..members_of(&scale, registry_index) {
            let handle = format!("{}-member-{index}", rir.token());
            let org_id = *ids.get(&handle).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("{rir} has no organisation {handle}"))
            })?;
            let email = format!("member{index}@{}.scale.example", rir.token());
            let name = format!("Member {index} of {rir}");
            let u = add((email, &name, "member"), Some(org_id), None).await?;
            members.push(Member {
                org_id,
                registry: *rir,
                registry_index,
                index,
                actor: Actor::new(
                    UserId(u.id),
                    Role::Member {
                        org_id: OrgId(org_id),
                    },
                ),
            });
        }
    }
    let mut hostmasters = Vec::new();
    for (rir, _, _) in SPACE {
        for n in 1..=2 {
            let email = format!("hm{n}@{}.scale.example", rir.token());
            let name = format!("Hostmaster {n} of {rir}");
            let u = add((email, &name, "hostmaster"), None, Some(rir)).await?;
            if n == 1 {
                hostmasters.push((
                    rir,
                    Actor::new(UserId(u.id), Role::Hostmaster { registry: rir }),
                ));
            }
        }
    }
    for role in ["auditor", "admin"] {
        let email = format!("{role}@scale.example");
        add((email, &format!("The {role}"), role), None, None).await?;
    }
    report.users = users.into_inner().unwrap_or_else(|e| e.into_inner());
    if members.len() < 2 {
        return Err(AppError::invalid("the data set needs at least two members"));
    }

    let world = demo::World {
        db,
        settings,
        members: Vec::new(),
        hostmasters,
    };
    // Each member's holdings are used in turn: finalized transfers first, then open ones.
    let mut next_block = vec![0u64; members.len()];
    let mut take = |m: usize| -> AppResult<Ipv4Range> {
        let member = &members[m];
        let index = member.index * per + next_block[m];
        next_block[m] += 1;
        holding_block(member.registry_index, index)
    };
    let count = members.len();
    let finalized_since = now - Duration::days(120);
    for k in 0..scale.finalized {
        let from = (k as usize) % count;
        let to = recipient(settings, &members, from, k);
        let block = take(from)?;
        let at = finalized_since + Duration::minutes(k as i64 * 10);
        drive(
            &world,
            &members[from],
            &members[to],
            block,
            Stop::Completed,
            at,
        )
        .await?;
        if (k + 1) % 100 == 0 {
            log(&format!("{} transfers finalized", k + 1));
        }
    }
    // Open transfers: half wait for their recipient, four in ten for the source registry, and
    // the rest are spread over the later waiting states.
    let window = Duration::days(settings.consent_days.max(2) - 1);
    for k in 0..scale.open {
        let from = (k as usize) % count;
        let to = recipient(settings, &members, from, k);
        let block = take(from)?;
        let at = now - window + window * (k as f64 / scale.open.max(1) as f64);
        let stop = match k % 10 {
            0..=4 => Stop::AwaitingRecipient,
            5..=8 => Stop::SourceReview,
            _ => [
                Stop::InfoRequested,
                Stop::RecipientReview,
                Stop::AwaitingFinalization,
                Stop::Disputed,
            ][(k / 10 % 4) as usize],
        };
        drive(&world, &members[from], &members[to], block, stop, at).await?;
        if (k + 1) % 1_000 == 0 {
            log(&format!("{} open transfers filed", k + 1));
        }
    }
    report.open_transfers = scale.open;
    report.ledger_entries = crate::db::ledger::head(db)
        .await?
        .map_or(0, |h| h.seq as u64);
    Ok(report)
}

/// The recipient of the `k`th transfer from member `from`: members in turn, skipping those of a
/// registry that does not exchange space with the source's (AFRINIC transfers within itself).
fn recipient(settings: &Settings, members: &[Member], from: usize, k: u64) -> usize {
    let count = members.len();
    let allowed = |a: Rir, b: Rir| {
        let (out, inb) = (
            &settings.profiles.get(a).inter_rir,
            &settings.profiles.get(b).inter_rir,
        );
        a == b
            || (out.enabled
                && inb.enabled
                && out.partners.contains(&b)
                && inb.partners.contains(&a))
    };
    (1..count)
        .map(|step| (from + step + (k as usize / count) % (count - 1)) % count)
        .find(|&to| to != from && allowed(members[from].registry, members[to].registry))
        .unwrap_or((from + 1) % count)
}

/// Where a seeded transfer stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    AwaitingRecipient,
    SourceReview,
    InfoRequested,
    RecipientReview,
    AwaitingFinalization,
    Disputed,
    Completed,
}

/// Files a transfer (through the demo's workflow helpers) of `block` from one member to another and takes it to `stop`.
async fn drive(
    world: &demo::World<'_>,
    from: &Member,
    to: &Member,
    block: Ipv4Range,
    stop: Stop,
    at: OffsetDateTime,
) -> AppResult<()> {
    let step = |n: i64| at + Duration::minutes(n);
    let id = transfers::file(
        world.db,
        world.settings,
        &from.actor,
        Filing {
            source_org_id: from.org_id,
            recipient_org_id: to.org_id,
            kind: TransferType::ResourceTransfer,
            blocks: vec![block],
            agreed_price: Some((
                rust_decimal::Decimal::new(12_000, 0),
                "USD".parse().expect("USD is a currency"),
            )),
        },
        at,
    )
    .await?;
    if stop == Stop::AwaitingRecipient {
        return Ok(());
    }
    for kind in [
        DocumentKind::TransferAgreement,
        DocumentKind::CompanyRegistration,
    ] {
        documents::attach(
            world.db,
            &from.actor,
            id,
            kind,
            &format!("{}.pdf", kind.as_str()),
            b"%PDF-1.7\n% ipxfer scale document\n",
            step(1),
        )
        .await?;
    }
    let need = NeedJustification {
        text: "Subscriber growth in our access network over the next two years".into(),
        horizon_months: Some(12),
        planned_utilisation_percent: Some(80),
    };
    world
        .act(&to.actor, id, Command::Accept { need }, step(2))
        .await?;
    let source_hm = world.hostmaster(from.registry, 0)?;
    match stop {
        Stop::SourceReview => return Ok(()),
        Stop::InfoRequested => {
            let question = Command::RequestInfo {
                side: Side::Source,
                asked: Side::Source,
                question: "Please upload the board resolution authorising the transfer.".into(),
            };
            return world.act(source_hm, id, question, step(3)).await;
        }
        _ => {}
    }
    world.approve(source_hm, id, Side::Source, step(3)).await?;
    if from.registry != to.registry {
        if stop == Stop::RecipientReview {
            return Ok(());
        }
        let recipient_hm = world.hostmaster(to.registry, 0)?;
        world
            .approve(recipient_hm, id, Side::Recipient, step(4))
            .await?;
    }
    if stop == Stop::AwaitingFinalization || stop == Stop::RecipientReview {
        return Ok(());
    }
    world.confirm_fees(from.registry, id, step(5)).await?;
    if stop == Stop::Disputed {
        let reason = "A third party claims the block under a prior sale agreement.".to_owned();
        return world
            .act(source_hm, id, Command::MarkDisputed { reason }, step(6))
            .await;
    }
    world.act(source_hm, id, Command::Finalize, step(6)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic() {
        let (mut a, mut b) = (SplitMix(7), SplitMix(7));
        assert_eq!(
            (0..5).map(|_| a.next()).collect::<Vec<_>>(),
            (0..5).map(|_| b.next()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn holdings_stay_in_their_registry_s_slash_8() {
        assert_eq!(holding_block(2, 0).unwrap().to_string(), "24.0.0.0/24");
        assert_eq!(
            holding_block(2, 65_535).unwrap().to_string(),
            "24.255.255.0/24"
        );
        assert!(holding_block(2, 65_536).is_err());
    }

    #[test]
    fn members_hold_the_first_blocks() {
        assert_eq!(holder(2, 0, 40, 55), "arin-member-0");
        assert_eq!(holder(2, 56, 40, 55), "arin-member-1");
        assert_eq!(holder(2, 40 * 55 + 4, 40, 55), "arin-holder-1");
    }
}
