//! Policy rules as the registries write them (issue 14, points 7-12), through the services and
//! the pages, each with the case that failed before: the hold on a source that received any
//! space recently and ARIN-2020-6 recorded with a reason; ARIN's fee on inbound 8.4 transfers
//! and each registry confirming its own fee lines; recorded origins changing the outcome; an
//! unconfirmed value labelled and not blocking; a rule for both sides reported once.

use axum::http::StatusCode;
use ipxfer::config::Settings;
use ipxfer::db::entities::{fee_line, holding, organisation, record_change, transfer_event};
use ipxfer::domain::authz::{Actor, Role};
use ipxfer::domain::transfer::HoldingOrigin;
use ipxfer::domain::workflow::State;
use ipxfer::domain::{Side, TransferType};
use ipxfer::error::AppError;
use ipxfer::services::records;
use ipxfer::services::transfers::{self, Command, Filing};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use time::Duration;

use crate::browser::Browser;
use crate::harness::now;
use crate::transfers::{World, need};

/// Sets what the registry knows of how and when the ARIN holder got 20.1.0.0/16.
async fn set_holding(w: &World, start: &str, origin: HoldingOrigin, received_days_ago: i64) {
    let start: std::net::Ipv4Addr = start.parse().unwrap();
    let h = holding::Entity::find()
        .filter(holding::Column::StartAddr.eq(i64::from(u32::from(start))))
        .one(&w.db.conn)
        .await
        .unwrap()
        .unwrap();
    let mut row: holding::ActiveModel = h.into();
    let on = (now() - Duration::days(received_days_ago)).date();
    row.origin = Set(origin.as_str().to_owned());
    row.received_on = Set(Some(on));
    row.registered_on = Set(Some(on));
    row.update(&w.db.conn).await.unwrap();
}

async fn accepted(w: &World, block: &str) -> i64 {
    let id = w.file(block).await.unwrap();
    w.attach_documents(id).await;
    w.act(&w.recipient_member, id, Command::Accept { need: need() })
        .await
        .unwrap();
    id
}

async fn history(w: &World, id: i64) -> Vec<(String, Option<String>)> {
    transfer_event::Entity::find()
        .filter(transfer_event::Column::TransferId.eq(id))
        .order_by_asc(transfer_event::Column::Id)
        .all(&w.db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event, e.comment))
        .collect()
}

#[tokio::test]
async fn arin_holds_a_source_that_received_any_space_in_twelve_months_until_arin_2020_6_is_recorded()
 {
    let w = World::new().await;
    // The block comes from 20.0.0.0/20, held since 2010; but ARIN transferred 20.1.0.0/16 to
    // the same source three months ago. Before, only the block's own receipt counted.
    set_holding(&w, "20.1.0.0", HoldingOrigin::Transferred, 90).await;
    // Filing is not refused: the exception can only be recorded once the transfer exists.
    let id = accepted(&w, "20.0.4.0/22").await;
    let err = w
        .approve(&w.arin_hostmaster, id, Side::Source)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("received 20.1.0.0/16 (transferred-in) from ARIN on 2026-08-30")
            && text.contains("unless ARIN-2020-6 applies"),
        "{text}"
    );
    // A plain override of a warning does not lift it.
    let overrides = vec![ipxfer::domain::workflow::Override {
        rule_id: "source.holding_period".into(),
        reason: "looks fine".into(),
    }];
    let err = w
        .act(
            &w.arin_hostmaster,
            id,
            Command::Approve {
                side: Side::Source,
                overrides,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict(_)), "{err}");

    let record = |actor: &Actor, reason: &'static str| {
        let conn = w.db.conn.clone();
        let actor = *actor;
        async move {
            transfers::record_exception(
                &conn,
                &Settings::default(),
                &actor,
                id,
                "source.holding_period",
                reason,
                now(),
            )
            .await
        }
    };
    // The recipient registry may not, and a reason is required.
    let err = record(&w.ripe_hostmaster, "swap").await.unwrap_err();
    assert!(matches!(err, AppError::Forbidden(_)), "{err}");
    let err = record(&w.arin_hostmaster, "  ").await.unwrap_err();
    assert!(matches!(err, AppError::Invalid(_)), "{err}");
    record(
        &w.arin_hostmaster,
        "renumbered into 20.1.0.0/16 before releasing 20.0.4.0/22",
    )
    .await
    .unwrap();
    assert!(history(&w, id).await.contains(&(
        "exception_recorded".to_owned(),
        Some(
            "ARIN-2020-6 applies: renumbered into 20.1.0.0/16 before releasing 20.0.4.0/22".into()
        )
    )));
    assert_eq!(
        w.approve(&w.arin_hostmaster, id, Side::Source)
            .await
            .unwrap(),
        State::RecipientReview
    );
    // Once recorded, there is nothing left to record.
    let err = record(&w.arin_hostmaster, "again").await.unwrap_err();
    assert!(matches!(err, AppError::Conflict(_)), "{err}");

    // Twelve months after the receipt the source is free again.
    set_holding(&w, "20.1.0.0", HoldingOrigin::Transferred, 400).await;
    let id = accepted(&w, "20.0.8.0/22").await;
    w.approve(&w.arin_hostmaster, id, Side::Source)
        .await
        .unwrap();
}

/// A RIPE NCC holder gives 193.0.0.0/22 to the ARIN holder: an 8.4 transfer into ARIN.
async fn file_ripe_to_arin(w: &World, settings: &Settings) -> i64 {
    let filing = Filing {
        source_org_id: w.ripe_org,
        recipient_org_id: w.arin_org,
        kind: TransferType::ResourceTransfer,
        blocks: vec!["193.0.0.0/22".parse().unwrap()],
        agreed_price: None,
    };
    transfers::file(&w.db.conn, settings, &w.recipient_member, filing, now())
        .await
        .unwrap()
}

async fn fee_lines(w: &World, id: i64) -> Vec<fee_line::Model> {
    fee_line::Entity::find()
        .filter(fee_line::Column::TransferId.eq(id))
        .order_by_asc(fee_line::Column::Id)
        .all(&w.db.conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn arin_bills_its_processing_fee_to_the_arin_side_party_of_an_inbound_transfer() {
    let w = World::new().await;
    let id = file_ripe_to_arin(&w, &Settings::default()).await;
    let lines: Vec<(String, String, String, String, bool)> = fee_lines(&w, id)
        .await
        .into_iter()
        .map(|l| (l.registry, l.payer, l.description, l.amount, l.confirmed))
        .collect();
    assert_eq!(
        lines,
        [
            (
                "arin".into(),
                "recipient".into(),
                "ARIN transfer processing fee".into(),
                "500".into(),
                true
            ),
            (
                "arin".into(),
                "recipient".into(),
                "ARIN recipient transfer processing fee for 1,024 addresses".into(),
                "750".into(),
                false
            ),
        ]
    );
}

#[tokio::test]
async fn each_registry_confirms_its_own_fee_lines_before_finalization() {
    let w = World::new().await;
    // With a RIPE NCC fee, both registries bill the ARIN -> RIPE NCC transfer.
    let settings = Settings::with_policy_overrides(
        "[[ripencc.fees.items]]\ndescription = \"RIPE NCC transfer fee\"\n\
         payer = \"source_else_recipient\"\namount = \"500.00\"\nconfirmed = true\n",
    )
    .unwrap();
    let filing = Filing {
        source_org_id: w.arin_org,
        recipient_org_id: w.ripe_org,
        kind: TransferType::ResourceTransfer,
        blocks: vec!["20.0.4.0/22".parse().unwrap()],
        agreed_price: None,
    };
    let id = transfers::file(&w.db.conn, &settings, &w.source_member, filing, now())
        .await
        .unwrap();
    let act = |actor: Actor, command: Command| {
        let conn = w.db.conn.clone();
        let settings = settings.clone();
        async move { transfers::act(&conn, &settings, &actor, id, command, now()).await }
    };
    w.attach_documents(id).await;
    act(w.recipient_member, Command::Accept { need: need() })
        .await
        .unwrap();
    for (hm, side) in [
        (w.arin_hostmaster, Side::Source),
        (w.ripe_hostmaster, Side::Recipient),
    ] {
        act(
            hm,
            Command::Approve {
                side,
                overrides: vec![],
            },
        )
        .await
        .unwrap();
    }
    // ARIN's confirmation covers ARIN's line only; before, it confirmed every line.
    let applied = act(w.arin_hostmaster, Command::ConfirmFees).await.unwrap();
    assert_eq!(
        applied.state,
        State::AwaitingFinalization {
            fees_confirmed: false,
            first_finalizer: None
        }
    );
    let paid: Vec<(String, bool)> = fee_lines(&w, id)
        .await
        .into_iter()
        .map(|l| (l.registry, l.paid_by.is_some()))
        .collect();
    assert_eq!(paid, [("arin".into(), true), ("ripencc".into(), false)]);
    let err = act(w.arin_hostmaster, Command::Finalize).await.unwrap_err();
    assert!(err.to_string().contains("fees must be confirmed"), "{err}");
    let err = act(w.arin_hostmaster, Command::ConfirmFees)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already confirmed"), "{err}");
    assert!(history(&w, id).await.contains(&(
        "fees_paid".to_owned(),
        Some("ARIN's fees confirmed paid; waiting for RIPE NCC".into())
    )));

    let applied = act(w.ripe_hostmaster, Command::ConfirmFees).await.unwrap();
    assert_eq!(
        applied.state,
        State::AwaitingFinalization {
            fees_confirmed: true,
            first_finalizer: None
        }
    );
    let done = act(w.arin_hostmaster, Command::Finalize).await.unwrap();
    assert_eq!(done.state, State::Completed);
}

#[tokio::test]
async fn recorded_origins_change_the_outcome_of_the_origin_rules() {
    let w = World::new().await;
    // Issued from ARIN's waiting list two years ago: not transferable for 60 months. Imported
    // holdings are all registry-issued, so before the origin was recorded it could move.
    set_holding(&w, "20.1.0.0", HoldingOrigin::RegistryIssued, 730).await;
    w.file("20.1.4.0/22").await.unwrap();

    // A bad file changes nothing and names every bad line.
    let bad = "range,origin\n20.1.0.0/17,waiting_list\n20.0.0.0/20,stolen\n";
    let err = records::import_origins(&w.db.conn, bad, "origins.csv", now())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("line 3: unknown origin \"stolen\""), "{text}");
    let bad = "20.1.0.0/17,waiting_list\n";
    let err = records::import_origins(&w.db.conn, bad, "origins.csv", now())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("line 1: 20.1.0.0/17 is not exactly one holding"),
        "{err}"
    );
    let origin = |start: i64| {
        let conn = w.db.conn.clone();
        async move {
            holding::Entity::find()
                .filter(holding::Column::StartAddr.eq(start))
                .one(&conn)
                .await
                .unwrap()
                .unwrap()
                .origin
        }
    };
    let twenty_one = i64::from(u32::from(std::net::Ipv4Addr::new(20, 1, 0, 0)));
    assert_eq!(origin(twenty_one).await, "registry_issued");

    let good = "range,origin\n20.1.0.0/16,waiting list\n";
    let r = records::import_origins(&w.db.conn, good, "origins.csv", now())
        .await
        .unwrap();
    assert_eq!((r.changed, r.unchanged), (1, 0));
    assert_eq!(origin(twenty_one).await, "waiting_list");
    let err = w.file("20.1.8.0/22").await.unwrap_err().to_string();
    assert!(
        err.contains(
            "20.1.8.0/22 is waiting-list space, which may not be transferred for 60 months"
        ),
        "{err}"
    );
    let changes = records::history(&w.db.conn, records::HOLDING, {
        holding::Entity::find()
            .filter(holding::Column::StartAddr.eq(twenty_one))
            .one(&w.db.conn)
            .await
            .unwrap()
            .unwrap()
            .id
    })
    .await
    .unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(
        (
            changes[0].old_value.as_str(),
            changes[0].new_value.as_str(),
            changes[0].actor_label.as_str()
        ),
        (
            "registry_issued",
            "waiting_list",
            "ipxfer import origins (origins.csv)"
        )
    );

    // A hostmaster of the holding's registry records it back, with a reason; others may not.
    let h = holding::Entity::find()
        .filter(holding::Column::StartAddr.eq(twenty_one))
        .one(&w.db.conn)
        .await
        .unwrap()
        .unwrap();
    let err = records::record_origin(
        &w.db.conn,
        &w.ripe_hostmaster,
        h.id,
        HoldingOrigin::Legacy,
        "x",
        now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::Forbidden(_)), "{err}");
    let err = records::record_origin(
        &w.db.conn,
        &w.arin_hostmaster,
        h.id,
        HoldingOrigin::Legacy,
        " ",
        now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::Invalid(_)), "{err}");
    records::record_origin(
        &w.db.conn,
        &w.arin_hostmaster,
        h.id,
        HoldingOrigin::Legacy,
        "issued by the InterNIC in 1990",
        now(),
    )
    .await
    .unwrap();
    assert_eq!(origin(twenty_one).await, "legacy");
    w.file("20.1.8.0/22").await.unwrap();
    assert_eq!(
        record_change::Entity::find()
            .all(&w.db.conn)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn imported_organisations_keep_their_registry_id_and_get_their_real_name() {
    let w = World::new().await;
    let err = records::rename_organisation(
        &w.db.conn,
        &w.ripe_hostmaster,
        w.arin_org,
        "Contoso Networks",
        "from the RSA",
        now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::Forbidden(_)), "{err}");
    records::rename_organisation(
        &w.db.conn,
        &w.arin_hostmaster,
        w.arin_org,
        "Contoso Networks",
        "name on the signed RSA",
        now(),
    )
    .await
    .unwrap();
    let org = organisation::Entity::find_by_id(w.arin_org)
        .one(&w.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (org.name.as_str(), org.handle.as_str()),
        ("Contoso Networks", "arin-holder")
    );
    let changes = records::history(&w.db.conn, records::ORGANISATION, w.arin_org)
        .await
        .unwrap();
    assert_eq!(changes[0].old_value, "ARIN holder arin-holder");
    // The admin may name any registry's organisations.
    let admin = Actor::new(w.arin_hostmaster.user_id.unwrap(), Role::Admin);
    records::rename_organisation(
        &w.db.conn,
        &admin,
        w.ripe_org,
        "Polder Telecom B.V.",
        "name on the LIR agreement",
        now(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn an_unconfirmed_value_is_labelled_and_does_not_block_until_the_operator_confirms_it() {
    let w = World::new().await;
    let filing = || Filing {
        source_org_id: w.arin_org,
        recipient_org_id: w.ripe_org,
        kind: TransferType::ResourceTransfer,
        blocks: vec!["20.0.4.0/22".parse().unwrap()],
        agreed_price: None,
    };
    // RIPE NCC's minimum size is a default nobody confirmed: raised to /21 it only warns.
    let unconfirmed =
        Settings::with_policy_overrides("[ripencc.minimum_size]\nprefix = \"/21\"\n").unwrap();
    let id = transfers::file(&w.db.conn, &unconfirmed, &w.source_member, filing(), now())
        .await
        .unwrap();
    let findings = transfers::findings(&w.db.conn, &unconfirmed, id, now())
        .await
        .unwrap();
    let minimum = findings
        .iter()
        .find(|f| f.rule_id == "both.minimum_size")
        .unwrap();
    assert!(!minimum.confirmed && !minimum.is_blocking());
    assert!(
        minimum.message.ends_with(
            "(configurable default, not confirmed against the registry's published policy)"
        ),
        "{}",
        minimum.message
    );
    // Confirmed in the operator's file, it blocks.
    let confirmed = Settings::with_policy_overrides(
        "[ripencc.minimum_size]\nprefix = \"/21\"\nconfirmed = true\n",
    )
    .unwrap();
    let mut other = filing();
    other.blocks = vec!["20.0.8.0/22".parse().unwrap()];
    let err = transfers::file(&w.db.conn, &confirmed, &w.source_member, other, now())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("minimum transfer size is /21, but 20.0.8.0/22"),
        "{err}"
    );

    // The transfer page says which fee statements are defaults: RIPE NCC's "no fee" is one.
    let mut page = Browser::signed_in(&w.db.conn, "hm1@arin.example").await;
    let text = page.get(&format!("/transfers/{id}")).await.text("main");
    assert!(
        text.contains(
            "RIPE NCC bills nothing here (configurable default, not confirmed against the \
             registry's published policy)"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn a_rule_for_both_sides_reports_once_and_both_reviews_weigh_it() {
    let w = World::new().await;
    // No documents on file: both registries need them, so one warning citing both.
    let id = w.file("20.0.4.0/22").await.unwrap();
    w.act(&w.recipient_member, id, Command::Accept { need: need() })
        .await
        .unwrap();
    let findings = transfers::findings(&w.db.conn, &Settings::default(), id, now())
        .await
        .unwrap();
    let documents: Vec<_> = findings
        .iter()
        .filter(|f| f.rule_id == "both.documents")
        .collect();
    assert_eq!(documents.len(), 1, "{findings:#?}");
    assert!(documents[0].shared);
    assert!(
        documents[0]
            .message
            .starts_with("ARIN NRPM 8.3, 8.4; RIPE NCC ripe-816: "),
        "{}",
        documents[0].message
    );
    let mut page = Browser::signed_in(&w.db.conn, "hm1@arin.example").await;
    let page = page.get(&format!("/transfers/{id}")).await;
    assert!(
        page.text("main")
            .contains("ARIN and RIPE NCC (both sides, reported once)")
    );
}

#[tokio::test]
async fn a_hostmaster_records_an_origin_and_names_the_holder_on_the_holdings_page() {
    let w = World::new().await;
    let h = holding::Entity::find()
        .filter(holding::Column::OrganisationId.eq(w.arin_org))
        .order_by_asc(holding::Column::StartAddr)
        .one(&w.db.conn)
        .await
        .unwrap()
        .unwrap();
    // The lookup links staff to the holding's records.
    let mut arin = Browser::signed_in(&w.db.conn, "hm1@arin.example").await;
    let lookup = arin.get("/lookup?q=20.0.4.0/22").await;
    assert_eq!(
        lookup.attr(".holdings tbody a", "href"),
        Some(format!("/holdings/{}", h.id))
    );
    let page = arin.get(&format!("/holdings/{}", h.id)).await;
    assert_eq!(page.text("#origin-now"), "Registry issued");
    // A reason is required; nothing changes without one.
    let refused = arin
        .post(
            &format!("/holdings/{}/origin", h.id),
            &[("origin", "legacy"), ("reason", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let done = arin
        .post(
            &format!("/holdings/{}/origin", h.id),
            &[
                ("origin", "legacy"),
                ("reason", "InterNIC allocation of 1990"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let page = arin.get(&format!("/holdings/{}", h.id)).await;
    assert_eq!(
        page.text("#origin-now"),
        "Legacy (issued before the registry)"
    );
    assert!(
        page.text("#changes")
            .contains("InterNIC allocation of 1990")
    );
    let done = arin
        .post(
            &format!("/holdings/{}/holder-name", h.id),
            &[("name", "Contoso Networks"), ("reason", "name on the RSA")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let page = arin.get(&format!("/holdings/{}", h.id)).await;
    assert!(page.text("#holding").contains("Contoso Networks"));
    assert!(page.text("#holding").contains("arin-holder"));

    // Another registry's hostmaster reads the records but may not change them.
    let mut ripe = Browser::signed_in(&w.db.conn, "hm@ripe.example").await;
    let page = ripe.get(&format!("/holdings/{}", h.id)).await;
    assert!(!page.has("#origin-form"));
    let refused = ripe
        .post(
            &format!("/holdings/{}/origin", h.id),
            &[("origin", "waiting_list"), ("reason", "guess")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // Members do not see holdings' records.
    let mut member = Browser::signed_in(&w.db.conn, "src@example.net").await;
    assert_eq!(
        member.get(&format!("/holdings/{}", h.id)).await.status,
        StatusCode::FORBIDDEN
    );
}
