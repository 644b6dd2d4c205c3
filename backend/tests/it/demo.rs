//! The demo: every state seeded through the real services, a ledger that verifies, and every
//! printed user able to sign in.

use axum::http::StatusCode;
use ipxfer::config::Settings;
use ipxfer::db::entities::{email_outbox, transfer, user};
use ipxfer::services::demo::{self, DEMO_PASSWORD};
use ipxfer::services::ledger;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::collections::BTreeSet;

use crate::browser::Browser;
use crate::harness::{TestDb, now};

#[tokio::test]
async fn the_demo_has_every_state_a_verified_ledger_and_users_who_can_sign_in() {
    let db = TestDb::new().await;
    let report = demo::seed(&db.conn, &Settings::default(), now())
        .await
        .unwrap();

    let rows = transfer::Entity::find().all(&db.conn).await.unwrap();
    let states: BTreeSet<&str> = rows.iter().map(|t| t.state.as_str()).collect();
    assert_eq!(
        states.into_iter().collect::<Vec<_>>(),
        [
            "awaiting_finalization",
            "awaiting_recipient",
            "completed",
            "disputed",
            "expired",
            "info_requested",
            "recipient_review",
            "rejected",
            "source_review",
            "withdrawn"
        ]
    );
    assert!(
        rows.iter()
            .any(|t| t.state == "awaiting_finalization" && t.first_finalizer_id.is_some()),
        "one large transfer waits for its second finalizer"
    );
    let completed: Vec<_> = rows.iter().filter(|t| t.state == "completed").collect();
    assert!(completed.len() >= 5);
    assert!(
        completed
            .iter()
            .any(|t| t.source_registry != t.recipient_registry)
    );
    assert!(
        completed
            .iter()
            .any(|t| t.source_registry == t.recipient_registry)
    );
    // Filed over the past months, not all at once.
    let oldest = rows.iter().map(|t| t.filed_at).min().unwrap();
    assert!(now() - oldest > time::Duration::days(120));

    let v = ledger::verify(&db.conn).await.unwrap();
    assert!(v.is_intact(), "{}", v.summary());
    assert_eq!(v.entries, report.ledger_entries);
    assert_eq!(report.ledger_entries, completed.len() as u64);

    // Organisations in all five registries, people in every role.
    let registries: BTreeSet<String> = report
        .users
        .iter()
        .filter(|u| u.role == "member")
        .map(|u| u.description.rsplit('(').next().unwrap().to_owned())
        .collect();
    assert_eq!(registries.len(), 5, "{registries:?}");
    let roles: BTreeSet<&str> = report.users.iter().map(|u| u.role).collect();
    assert_eq!(
        roles.into_iter().collect::<Vec<_>>(),
        ["admin", "auditor", "hostmaster", "member"]
    );
    for u in &report.users {
        assert_eq!(
            u.line(),
            format!("demo user: {} {} {DEMO_PASSWORD}", u.role, u.email)
        );
        let mut b = Browser::new(&db.conn);
        let page = b
            .post(
                "/login",
                &[("email", &u.email), ("password", DEMO_PASSWORD)],
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "{} cannot sign in",
            u.email
        );
    }
    // The admin's attention page has the pending invitation; every seeded e-mail is queued for
    // the worker, like any other, so none has failed.
    let mut admin = Browser::new(&db.conn);
    admin
        .post(
            "/login",
            &[
                ("email", "admin@ipxfer.example"),
                ("password", DEMO_PASSWORD),
            ],
        )
        .await;
    let attention = admin.get("/admin").await;
    assert!(attention.body.contains("No e-mail has failed."));
    let queued = email_outbox::Entity::find()
        .filter(email_outbox::Column::Status.eq("pending"))
        .count(&db.conn)
        .await
        .unwrap();
    assert!(
        queued > 50,
        "the seeded history's e-mails are queued: {queued}"
    );
    assert_eq!(attention.texts("table.invitations tbody tr").len(), 1);
}

#[tokio::test]
async fn the_demo_refuses_a_database_that_has_data() {
    let db = TestDb::new().await;
    demo::seed(&db.conn, &Settings::default(), now())
        .await
        .unwrap();
    let users_before = user::Entity::find().all(&db.conn).await.unwrap().len();
    let err = demo::seed(&db.conn, &Settings::default(), now())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the demo seeds an empty database only"),
        "{err}"
    );
    assert_eq!(
        user::Entity::find().all(&db.conn).await.unwrap().len(),
        users_before
    );
}

fn ipxfer(db: &TestDb, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    crate::cli::ipxfer_with_input(db, args, stdin.unwrap_or_default())
}

#[tokio::test]
async fn seed_demo_prints_one_line_per_user_and_user_add_creates_accounts() {
    let db = TestDb::new().await;
    let (ok, out, err) = ipxfer(&db, &["seed", "demo"], None);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("demo user: "))
        .collect();
    assert_eq!(lines.len(), 24, "{out}");
    for line in &lines {
        let fields: Vec<&str> = line["demo user: ".len()..].split(' ').collect();
        assert_eq!(fields.len(), 3, "{line}");
        assert!(["member", "hostmaster", "auditor", "admin"].contains(&fields[0]));
        assert_eq!(fields[2], DEMO_PASSWORD);
    }
    let (ok, _, err) = ipxfer(&db, &["seed", "demo"], None);
    assert!(!ok);
    assert!(err.contains("empty database only"), "{err}");

    // An invitation prints its link; a member is tied to an organisation by handle.
    let (ok, out, err) = ipxfer(
        &db,
        &[
            "user",
            "add",
            "--email",
            "zoe@northwind.example",
            "--name",
            "Zoe Lane",
            "--role",
            "member",
            "--registry",
            "arin",
            "--org-handle",
            "4a8a91b5b89d3f900098ebf73ca0b118",
        ],
        None,
    );
    assert!(ok, "{err}");
    assert!(out.contains("/invitation/"), "{out}");
    let zoe = user::Entity::find()
        .filter(user::Column::Email.eq("zoe@northwind.example"))
        .one(&db.conn)
        .await
        .unwrap()
        .unwrap();
    assert!(zoe.organisation_id.is_some() && zoe.password_hash.is_none());

    // A password from standard input signs in at once.
    let (ok, _, err) = ipxfer(
        &db,
        &[
            "user",
            "add",
            "--email",
            "ops@ipxfer.example",
            "--name",
            "Ops",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    );
    assert!(ok, "{err}");
    let page = Browser::new(&db.conn)
        .post(
            "/login",
            &[
                ("email", "ops@ipxfer.example"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);

    let (ok, _, err) = ipxfer(
        &db,
        &[
            "user",
            "add",
            "--email",
            "x@example.net",
            "--name",
            "X",
            "--role",
            "hostmaster",
        ],
        None,
    );
    assert!(!ok);
    assert!(err.contains("Choose the hostmaster's registry"), "{err}");
    let (ok, _, err) = ipxfer(
        &db,
        &[
            "user",
            "add",
            "--email",
            "y@example.net",
            "--name",
            "Y",
            "--role",
            "member",
            "--registry",
            "arin",
            "--org-handle",
            "nobody",
        ],
        None,
    );
    assert!(!ok);
    assert!(err.contains("ARIN has no organisation \"nobody\""), "{err}");
}

#[tokio::test]
async fn the_readme_walk_through_works_on_the_demo_and_the_lookup_shows_the_new_holding() {
    use ipxfer::domain::authz::Actor;
    use ipxfer::domain::transfer::{DocumentKind, NeedJustification};
    use ipxfer::domain::{Side, TransferType};
    use ipxfer::services::accounts::actor_of;
    use ipxfer::services::documents;
    use ipxfer::services::transfers::{self, Command, Filing};

    let db = TestDb::new().await;
    let settings = Settings::default();
    demo::seed(&db.conn, &settings, now()).await.unwrap();
    let actor = |email: &'static str| {
        let conn = db.conn.clone();
        async move {
            let u = user::Entity::find()
                .filter(user::Column::Email.eq(email))
                .one(&conn)
                .await
                .unwrap()
                .unwrap();
            (actor_of(&u), u.organisation_id)
        }
    };
    let (ana, northwind) = actor("ana@northwind.example").await;
    let (damien, rhone) = actor("damien@rhone-fibre.example").await;
    let (arin, _) = actor("hm1@arin.example").await;
    let (ripe, _) = actor("hm1@ripencc.example").await;
    let id = transfers::file(
        &db.conn,
        &settings,
        &ana,
        Filing {
            source_org_id: northwind.unwrap(),
            recipient_org_id: rhone.unwrap(),
            kind: TransferType::ResourceTransfer,
            blocks: vec!["3.2.0.0/22".parse().unwrap()],
            agreed_price: None,
        },
        now(),
    )
    .await
    .unwrap();
    for kind in [
        DocumentKind::TransferAgreement,
        DocumentKind::CompanyRegistration,
    ] {
        documents::attach(&db.conn, &ana, id, kind, "signed.pdf", b"%PDF-1.7 x", now())
            .await
            .unwrap();
    }
    let step = |who: Actor, command: Command| {
        let (conn, settings) = (db.conn.clone(), settings.clone());
        async move {
            transfers::act(&conn, &settings, &who, id, command, now())
                .await
                .unwrap()
        }
    };
    let need = NeedJustification {
        text: "Growth".into(),
        horizon_months: Some(12),
        planned_utilisation_percent: Some(80),
    };
    step(damien, Command::Accept { need }).await;
    for (who, side) in [(arin, Side::Source), (ripe, Side::Recipient)] {
        let overrides = vec![];
        step(who, Command::Approve { side, overrides }).await;
    }
    step(arin, Command::ConfirmFees).await;
    let done = step(arin, Command::Finalize).await;
    assert_eq!(done.ledger_entries.len(), 1);

    let mut b = Browser::new(&db.conn);
    b.post(
        "/login",
        &[
            ("email", "auditor@ipxfer.example"),
            ("password", DEMO_PASSWORD),
        ],
    )
    .await;
    let page = b.get("/lookup?q=3.2.0.0/22").await;
    page.assert_ok();
    assert_eq!(
        page.texts("table.holdings tbody td")[..3],
        [
            "Rhône Fibre SAS Registry id 6076bc11-d19a-4df7-b811-b0f4240d050c",
            "RIPE NCC",
            "3.2.0.0/22"
        ]
    );
    assert_eq!(
        page.attr("table.history a", "href"),
        Some(format!("/transfers/{id}"))
    );
}

#[tokio::test]
async fn serve_demo_on_a_database_with_data_refuses_before_serving() {
    let db = TestDb::new().await;
    demo::seed(&db.conn, &Settings::default(), now())
        .await
        .unwrap();
    let (ok, _, err) = ipxfer(&db, &["serve", "--demo", "--addr", "127.0.0.1:0"], None);
    assert!(!ok);
    assert!(err.contains("empty database only"), "{err}");
}
