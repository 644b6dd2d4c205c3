//! The demo: a living system on an empty database, so that someone who just cloned the
//! repository can sign in as every role and click through. Real holdings come from the 2019
//! delegated-extended excerpts of the five registries (embedded in the binary); a few holders per
//! registry get readable names; people get every role; and transfers are driven through the real
//! services (`transfers::file`, `act`, `documents::attach`, `expire_overdue`) into every state,
//! with timestamps spread over the past five months. Nothing here bypasses a policy check or the
//! ledger: the seeded ledger verifies like any other.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use time::{Duration, OffsetDateTime};

use crate::config::Settings;
use crate::db::entities::{email_outbox, fee_line, organisation, user};
use crate::db::users::{self as users_db, NewUser};
use crate::domain::authz::{AccountRole, Actor, Role};
use crate::domain::transfer::{DocumentKind, NeedJustification};
use crate::domain::transfer::{OrgId, UserId};
use crate::domain::workflow::Override;
use crate::domain::{Rir, Severity, Side, TransferType};
use crate::error::{AppError, AppResult};
use crate::services::accounts::{self, Invitation};
use crate::services::import::{self, NoProgress};
use crate::services::transfers::{self, Command, Filing};
use crate::services::{documents, ledger};

/// The password of every demo user (printed at seeding; the demo is not for production data).
pub const DEMO_PASSWORD: &str = "ipxfer-demo-password";

/// The registries' excerpts, embedded so the binary seeds from any working directory.
const EXCERPTS: [&[u8]; 5] = [
    include_bytes!("../../tests/fixtures/excerpts-2019/delegated-afrinic-extended-2019-excerpt"),
    include_bytes!("../../tests/fixtures/excerpts-2019/delegated-apnic-extended-2019-excerpt"),
    include_bytes!("../../tests/fixtures/excerpts-2019/delegated-arin-extended-2019-excerpt"),
    include_bytes!("../../tests/fixtures/excerpts-2019/delegated-lacnic-extended-2019-excerpt"),
    include_bytes!("../../tests/fixtures/excerpts-2019/delegated-ripencc-extended-2019-excerpt"),
];

/// A demo organisation: an imported holder (registry, opaque id) given a readable name, and
/// the member who signs in for it.
struct DemoOrg {
    key: &'static str,
    registry: Rir,
    handle: &'static str,
    name: &'static str,
    member_name: &'static str,
    member_email: &'static str,
}

const ORGS: &[DemoOrg] = &[
    org(
        "northwind",
        Rir::Arin,
        "4a8a91b5b89d3f900098ebf73ca0b118",
        "Northwind Cloud Inc.",
        "Ana Lima",
        "ana@northwind.example",
    ),
    org(
        "meridian",
        Rir::Arin,
        "e5e3b9c13678dfc483fb1f819d70883c",
        "Meridian Telecom LLC",
        "Ben Carter",
        "ben@meridian.example",
    ),
    org(
        "greatlakes",
        Rir::Arin,
        "d421c651a84f448b307b2312411647ca",
        "Great Lakes Data Corp.",
        "Chloe Park",
        "chloe@greatlakes.example",
    ),
    org(
        "rhone",
        Rir::RipeNcc,
        "6076bc11-d19a-4df7-b811-b0f4240d050c",
        "Rhône Fibre SAS",
        "Damien Roux",
        "damien@rhone-fibre.example",
    ),
    org(
        "thames",
        Rir::RipeNcc,
        "ab3ed8af-8a47-44b9-9a26-dc7d0c635039",
        "Thames Broadband Ltd",
        "Emma Hughes",
        "emma@thames.example",
    ),
    org(
        "laguna",
        Rir::RipeNcc,
        "6c2b7512-ce4c-45f4-9562-5d4b353ec935",
        "Laguna Telecom S.p.A.",
        "Fabio Conti",
        "fabio@laguna.example",
    ),
    org(
        "yangtze",
        Rir::Apnic,
        "A92319D5",
        "Yangtze Networks Co., Ltd.",
        "Gao Wei",
        "gao@yangtze.example",
    ),
    org(
        "kansai",
        Rir::Apnic,
        "A9262674",
        "Kansai Fiber K.K.",
        "Haruto Sato",
        "haruto@kansai.example",
    ),
    org(
        "deccan",
        Rir::Apnic,
        "A92C99E2",
        "Deccan Broadband Pvt. Ltd.",
        "Isha Rao",
        "isha@deccan.example",
    ),
    org(
        "pampa",
        Rir::Lacnic,
        "20118",
        "Pampa Cable S.A.",
        "Julián Sosa",
        "julian@pampa.example",
    ),
    org(
        "serraverde",
        Rir::Lacnic,
        "275378",
        "Serra Verde Internet Ltda.",
        "Karina Alves",
        "karina@serraverde.example",
    ),
    org(
        "andes",
        Rir::Lacnic,
        "274919",
        "Andes Conecta S.A.",
        "Luis Paredes",
        "luis@andes.example",
    ),
    org(
        "highveld",
        Rir::Afrinic,
        "F364712F",
        "Highveld Telecom (Pty) Ltd",
        "Mandla Dube",
        "mandla@highveld.example",
    ),
    org(
        "nile",
        Rir::Afrinic,
        "F36B49FA",
        "Nile Data Networks S.A.E.",
        "Nour Hassan",
        "nour@nile.example",
    ),
    org(
        "karoo",
        Rir::Afrinic,
        "F367B857",
        "Karoo Online (Pty) Ltd",
        "Olivia Naidoo",
        "olivia@karoo.example",
    ),
];

const fn org(
    key: &'static str,
    registry: Rir,
    handle: &'static str,
    name: &'static str,
    member_name: &'static str,
    member_email: &'static str,
) -> DemoOrg {
    DemoOrg {
        key,
        registry,
        handle,
        name,
        member_name,
        member_email,
    }
}

/// Hostmasters: one per registry, and a second at ARIN and RIPE NCC for four-eyes finalization.
const HOSTMASTERS: &[(Rir, &str, &str)] = &[
    (Rir::Arin, "Priya Shah", "hm1@arin.example"),
    (Rir::Arin, "Quentin Moore", "hm2@arin.example"),
    (Rir::RipeNcc, "Rosa de Vries", "hm1@ripencc.example"),
    (Rir::RipeNcc, "Stefan Berg", "hm2@ripencc.example"),
    (Rir::Apnic, "Tomoko Ito", "hm1@apnic.example"),
    (Rir::Lacnic, "Ulises Vega", "hm1@lacnic.example"),
    (Rir::Afrinic, "Victor Okafor", "hm1@afrinic.example"),
];

const AUDITOR: (&str, &str) = ("Wanda Audit", "auditor@ipxfer.example");
const ADMIN: (&str, &str) = ("Xavier Admin", "admin@ipxfer.example");
/// Invited but not signed in yet: the admin's "pending invitations".
const INVITED: (&str, &str) = ("Yuki Mori", "hm2@apnic.example");

/// Where a scripted transfer stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    AwaitingRecipient,
    SourceReview,
    InfoRequested,
    RecipientReview,
    AwaitingFinalization,
    FirstOfTwoFinalizations,
    Completed,
    Rejected,
    Withdrawn,
    Expired,
    Disputed,
}

/// One scripted transfer: who, what, when it was filed, and where it stops.
struct Script {
    from: &'static str,
    to: &'static str,
    block: &'static str,
    days_ago: i64,
    end: End,
}

const fn script(
    from: &'static str,
    to: &'static str,
    block: &'static str,
    days_ago: i64,
    end: End,
) -> Script {
    Script {
        from,
        to,
        block,
        days_ago,
        end,
    }
}

/// In the order they happen: completions first, oldest first, so the ledger's order is the
/// order of time; the expiring filing lapses before any later filing waits.
const SCRIPTS: &[Script] = &[
    script("northwind", "rhone", "3.0.4.0/22", 150, End::Completed),
    script("thames", "kansai", "2.24.8.0/22", 125, End::Completed),
    script("thames", "laguna", "2.24.32.0/22", 115, End::Completed),
    script("yangtze", "deccan", "1.3.16.0/20", 105, End::Completed),
    script("pampa", "meridian", "24.232.64.0/22", 85, End::Completed),
    script("highveld", "nile", "41.0.32.0/21", 65, End::Completed),
    // Meridian received space from Pampa within twelve months: ARIN's hold applies, and the
    // hostmaster records that ARIN-2020-6 does.
    script("meridian", "greatlakes", "4.0.8.0/22", 45, End::Completed),
    script("kansai", "thames", "1.5.0.0/22", 95, End::Expired),
    script("laguna", "serraverde", "2.32.0.0/22", 70, End::Rejected),
    script("greatlakes", "yangtze", "15.128.0.0/22", 55, End::Withdrawn),
    script("northwind", "andes", "3.0.8.0/22", 35, End::Disputed),
    script(
        "northwind",
        "laguna",
        "3.1.0.0/16",
        25,
        End::FirstOfTwoFinalizations,
    ),
    script(
        "rhone",
        "northwind",
        "2.0.16.0/22",
        18,
        End::AwaitingFinalization,
    ),
    script(
        "greatlakes",
        "karoo",
        "15.128.16.0/22",
        15,
        End::AwaitingFinalization,
    ),
    script("deccan", "pampa", "1.6.4.0/22", 12, End::RecipientReview),
    script(
        "laguna",
        "highveld",
        "2.32.8.0/22",
        10,
        End::RecipientReview,
    ),
    script(
        "serraverde",
        "andes",
        "45.5.104.0/23",
        9,
        End::InfoRequested,
    ),
    script("deccan", "nile", "1.6.8.0/22", 7, End::SourceReview),
    // Nile received space from Highveld within twelve months: under AFRINIC's hold it may not
    // be a source, so Karoo is.
    script("karoo", "nile", "41.48.0.0/22", 6, End::SourceReview),
    script(
        "meridian",
        "kansai",
        "4.0.16.0/22",
        3,
        End::AwaitingRecipient,
    ),
    script(
        "thames",
        "northwind",
        "2.24.16.0/22",
        1,
        End::AwaitingRecipient,
    ),
];

/// A demo user as printed at seeding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUser {
    /// `member`, `hostmaster`, `auditor` or `admin`.
    pub role: &'static str,
    pub email: String,
    /// What the role label says: "member of Northwind Cloud Inc. (ARIN)", "ARIN hostmaster".
    pub description: String,
}

impl DemoUser {
    /// The one line printed per user: `demo user: <role> <email> <password>`.
    pub fn line(&self) -> String {
        format!("demo user: {} {} {DEMO_PASSWORD}", self.role, self.email)
    }
}

/// What seeding made.
#[derive(Debug, Clone)]
pub struct DemoReport {
    pub users: Vec<DemoUser>,
    /// (reference, state name) of each scripted transfer.
    pub transfers: Vec<(String, String)>,
    pub ledger_entries: u64,
    /// E-mails of the seeded history waiting in the outbox for the worker.
    pub emails_queued: u64,
}

/// Seeds the demo into an empty database. A database that already has organisations or users
/// is refused, so the demo never mixes with real data.
pub async fn seed(
    db: &DatabaseConnection,
    settings: &Settings,
    now: OffsetDateTime,
) -> AppResult<DemoReport> {
    let orgs = organisation::Entity::find().count(db).await?;
    let users = user::Entity::find().count(db).await?;
    if orgs > 0 || users > 0 {
        return Err(AppError::conflict(format!(
            "this database already has {orgs} organisations and {users} users: the demo seeds an \
             empty database only (use another --database-url, or `ipxfer serve --demo`, which \
             starts from a fresh data/demo.db)"
        )));
    }
    let imported_at = now - Duration::days(200);
    for bytes in EXCERPTS {
        import::import_delegated(db, bytes, imported_at, &NoProgress).await?;
    }

    let mut world = World {
        db,
        settings,
        members: Vec::new(),
        hostmasters: Vec::new(),
    };
    let mut people = Vec::new();
    let hash = accounts::hash_password(DEMO_PASSWORD)?;
    let joined = now - Duration::days(190);
    for o in ORGS {
        let id = organisation::Entity::find()
            .filter(organisation::Column::Registry.eq(o.registry.token()))
            .filter(organisation::Column::Handle.eq(o.handle))
            .one(db)
            .await?
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "the {} excerpt has no holder {}",
                    o.registry,
                    o.handle
                ))
            })?
            .id;
        organisation::Entity::update_many()
            .col_expr(organisation::Column::Name, Expr::value(o.name))
            .filter(organisation::Column::Id.eq(id))
            .exec(db)
            .await?;
        let u = users_db::insert(
            db,
            NewUser {
                email: o.member_email,
                display_name: o.member_name,
                role: "member",
                organisation_id: Some(id),
                registry: None,
                password_hash: Some(hash.clone()),
            },
            joined,
        )
        .await?;
        world.members.push((
            o.key,
            id,
            o.registry,
            Actor::new(UserId(u.id), Role::Member { org_id: OrgId(id) }),
        ));
        people.push(DemoUser {
            role: "member",
            email: o.member_email.to_owned(),
            description: format!("member of {} ({})", o.name, o.registry),
        });
    }
    for (registry, name, email) in HOSTMASTERS {
        let u = users_db::insert(
            db,
            NewUser {
                email,
                display_name: name,
                role: "hostmaster",
                organisation_id: None,
                registry: Some(*registry),
                password_hash: Some(hash.clone()),
            },
            joined,
        )
        .await?;
        world.hostmasters.push((
            *registry,
            Actor::new(
                UserId(u.id),
                Role::Hostmaster {
                    registry: *registry,
                },
            ),
        ));
        people.push(DemoUser {
            role: "hostmaster",
            email: (*email).to_owned(),
            description: format!("{registry} hostmaster"),
        });
    }
    for (role, (name, email)) in [("auditor", AUDITOR), ("admin", ADMIN)] {
        users_db::insert(
            db,
            NewUser {
                email,
                display_name: name,
                role,
                organisation_id: None,
                registry: None,
                password_hash: Some(hash.clone()),
            },
            joined,
        )
        .await?;
        people.push(DemoUser {
            role,
            email: email.to_owned(),
            description: role.to_owned(),
        });
    }

    let mut transfers = Vec::new();
    for s in SCRIPTS {
        let id = world.run(s, now).await?;
        let t = crate::db::entities::transfer::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("transfer {id} vanished")))?;
        transfers.push((t.reference, t.state));
    }

    // The admin's page has something to show: an invitation not yet accepted, and two
    // messages the mail server refused. The scripted mails count as delivered.
    accounts::invite(
        db,
        &Invitation {
            email: INVITED.1.to_owned(),
            display_name: INVITED.0.to_owned(),
            role: AccountRole::Hostmaster,
            organisation_id: None,
            registry: Some(Rir::Apnic),
        },
        &settings.base_url,
        now - Duration::days(2),
    )
    .await?;

    let verification = ledger::verify(db).await?;
    if !verification.is_intact() {
        return Err(AppError::Internal(anyhow::anyhow!(
            "the seeded ledger does not verify: {}",
            verification.summary()
        )));
    }
    let emails_queued = email_outbox::Entity::find()
        .filter(email_outbox::Column::Status.eq("pending"))
        .count(db)
        .await?;
    Ok(DemoReport {
        emails_queued,
        users: people,
        transfers,
        ledger_entries: verification.entries,
    })
}

/// A registry approves its side, answering each warning with a written reason as a hostmaster
/// would (the demo and the scale data set drive transfers this way).
pub(crate) async fn approve_answering_warnings(
    db: &DatabaseConnection,
    settings: &Settings,
    actor: &Actor,
    id: i64,
    side: Side,
    at: OffsetDateTime,
) -> AppResult<()> {
    let overrides = transfers::findings(db, settings, id, at)
        .await?
        .into_iter()
        .filter(|f| f.severity == Severity::Warning)
        .map(|f| Override {
            rule_id: f.rule_id,
            reason: "Checked with the organisation; documents on file.".to_owned(),
        })
        .collect();
    transfers::act(
        db,
        settings,
        actor,
        id,
        Command::Approve { side, overrides },
        at,
    )
    .await
    .map(drop)
}

/// The demo's people, by organisation key and registry (the scale data set drives its
/// transfers through it too, without named members).
pub(crate) struct World<'a> {
    pub(crate) db: &'a DatabaseConnection,
    pub(crate) settings: &'a Settings,
    /// (key, organisation id, registry, member).
    pub(crate) members: Vec<(&'static str, i64, Rir, Actor)>,
    pub(crate) hostmasters: Vec<(Rir, Actor)>,
}

impl World<'_> {
    fn member(&self, key: &str) -> AppResult<&(&'static str, i64, Rir, Actor)> {
        self.members
            .iter()
            .find(|m| m.0 == key)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no demo organisation {key}")))
    }

    /// The `n`th hostmaster of a registry (the second finalizes after the first).
    pub(crate) fn hostmaster(&self, registry: Rir, n: usize) -> AppResult<&Actor> {
        self.hostmasters
            .iter()
            .filter(|(r, _)| *r == registry)
            .nth(n)
            .map(|(_, a)| a)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no hostmaster {n} at {registry}")))
    }

    pub(crate) async fn act(
        &self,
        actor: &Actor,
        id: i64,
        command: Command,
        at: OffsetDateTime,
    ) -> AppResult<()> {
        transfers::act(self.db, self.settings, actor, id, command, at)
            .await
            .map(drop)
    }

    pub(crate) async fn approve(
        &self,
        actor: &Actor,
        id: i64,
        side: Side,
        at: OffsetDateTime,
    ) -> AppResult<()> {
        approve_answering_warnings(self.db, self.settings, actor, id, side, at).await
    }

    /// Files a scripted transfer and takes it to its end state; returns its id.
    /// Records the policy exceptions a source-side finding offers (ARIN-2020-6 in the demo).
    async fn record_exceptions(&self, hm: &Actor, id: i64, at: OffsetDateTime) -> AppResult<()> {
        let findings = transfers::findings(self.db, self.settings, id, at).await?;
        for f in findings.iter().filter(|f| f.exception.is_some()) {
            let reason = "The source received a smaller block to renumber into and releases \
                          its larger block (checked against its renumbering plan).";
            transfers::record_exception(self.db, self.settings, hm, id, &f.rule_id, reason, at)
                .await?;
        }
        Ok(())
    }

    /// Each registry that bills the transfer confirms its own lines; when none does, the source
    /// registry confirms.
    pub(crate) async fn confirm_fees(
        &self,
        source_rir: Rir,
        id: i64,
        at: OffsetDateTime,
    ) -> AppResult<()> {
        // Each billing registry once, whatever order the database returns the lines in
        // (PostgreSQL interleaves them; confirming a registry's fees twice is refused).
        let mut billing: Vec<Rir> = Vec::new();
        for line in fee_line::Entity::find()
            .filter(fee_line::Column::TransferId.eq(id))
            .order_by_asc(fee_line::Column::Id)
            .all(self.db)
            .await?
        {
            if let Some(registry) = Rir::from_token(&line.registry)
                && !billing.contains(&registry)
            {
                billing.push(registry);
            }
        }
        if billing.is_empty() {
            billing.push(source_rir);
        }
        for registry in billing {
            let hm = self.hostmaster(registry, 0)?;
            self.act(hm, id, Command::ConfirmFees, at).await?;
        }
        Ok(())
    }

    async fn run(&self, s: &Script, now: OffsetDateTime) -> AppResult<i64> {
        let (_, source_id, source_rir, source) = *self.member(s.from)?;
        let (_, recipient_id, recipient_rir, recipient) = *self.member(s.to)?;
        let inter = source_rir != recipient_rir;
        let start = now - Duration::days(s.days_ago);
        let day = |d: i64| start + Duration::days(d) + Duration::hours(d * 3 % 7);
        let block = s
            .block
            .parse()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("demo block {}: {e}", s.block)))?;
        let id = transfers::file(
            self.db,
            self.settings,
            &source,
            Filing {
                source_org_id: source_id,
                recipient_org_id: recipient_id,
                kind: TransferType::ResourceTransfer,
                blocks: vec![block],
                agreed_price: Some((
                    rust_decimal::Decimal::new(25_000, 0),
                    "USD".parse().expect("USD is a currency"),
                )),
            },
            start,
        )
        .await?;
        for kind in [
            DocumentKind::TransferAgreement,
            DocumentKind::CompanyRegistration,
        ] {
            documents::attach(
                self.db,
                &source,
                id,
                kind,
                &format!("{}.pdf", kind.as_str()),
                b"%PDF-1.7\n% ipxfer demo document\n",
                start + Duration::hours(1),
            )
            .await?;
        }
        match s.end {
            End::AwaitingRecipient => return Ok(id),
            End::Withdrawn => {
                self.act(&source, id, Command::Withdraw, day(2)).await?;
                return Ok(id);
            }
            End::Expired => {
                let lapsed = start + Duration::days(self.settings.consent_days + 1);
                transfers::expire_overdue(self.db, self.settings, lapsed).await?;
                return Ok(id);
            }
            _ => {}
        }
        let need = NeedJustification {
            text: "Subscriber growth in our fibre-to-the-home network over the next year".into(),
            horizon_months: Some(12),
            planned_utilisation_percent: Some(80),
        };
        self.act(&recipient, id, Command::Accept { need }, day(2))
            .await?;
        let source_hm = self.hostmaster(source_rir, 0)?;
        match s.end {
            End::SourceReview => return Ok(id),
            End::InfoRequested => {
                let question = Command::RequestInfo {
                    side: Side::Source,
                    asked: Side::Source,
                    question: "Please upload the board resolution authorising the transfer.".into(),
                };
                self.act(source_hm, id, question, day(4)).await?;
                return Ok(id);
            }
            End::Rejected => {
                let reason = "The transfer agreement is not signed by an authorised officer of \
                              the source organisation."
                    .to_owned();
                let reject = Command::Reject {
                    side: Side::Source,
                    reason,
                };
                self.act(source_hm, id, reject, day(5)).await?;
                return Ok(id);
            }
            _ => {}
        }
        self.record_exceptions(source_hm, id, day(5)).await?;
        self.approve(source_hm, id, Side::Source, day(5)).await?;
        if s.end == End::RecipientReview {
            return Ok(id);
        }
        if inter {
            let recipient_hm = self.hostmaster(recipient_rir, 0)?;
            self.approve(recipient_hm, id, Side::Recipient, day(7))
                .await?;
        }
        if s.end == End::AwaitingFinalization {
            return Ok(id);
        }
        self.confirm_fees(source_rir, id, day(8)).await?;
        if s.end == End::Disputed {
            let reason = "A third party claims the block under a prior sale agreement.".to_owned();
            self.act(source_hm, id, Command::MarkDisputed { reason }, day(9))
                .await?;
            return Ok(id);
        }
        self.act(source_hm, id, Command::Finalize, day(10)).await?;
        if s.end == End::Completed && block.size() >= self.settings.four_eyes_addresses {
            let second = self.hostmaster(source_rir, 1)?;
            self.act(second, id, Command::Finalize, day(10) + Duration::hours(2))
                .await?;
        }
        Ok(id)
    }
}
