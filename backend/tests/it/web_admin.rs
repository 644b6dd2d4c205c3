//! The administrator's pages through the router: each page and action for an administrator,
//! and refused for every other role.

use axum::http::StatusCode;
use ipxfer::config::Settings;
use ipxfer::db::entities::{email_outbox, organisation, user};
use ipxfer::db::organisations::{self, NewOrganisation};
use ipxfer::db::outbox::{self, OutboundEmail};
use ipxfer::db::users::{self, NewUser};
use ipxfer::domain::Rir;
use ipxfer::web::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::browser::{Browser, PASSWORD};
use crate::harness::now;
use crate::transfers::World;

pub const ADMIN: &str = "admin@example.net";
pub const AUDITOR: &str = "auditor@example.net";

/// The transfer world plus an administrator and an auditor.
pub async fn world() -> World {
    let w = World::new().await;
    for (email, role) in [(ADMIN, "admin"), (AUDITOR, "auditor")] {
        users::insert(
            &w.db.conn,
            NewUser {
                email,
                display_name: email,
                role,
                organisation_id: None,
                registry: None,
                password_hash: Some(crate::browser::password_hash()),
            },
            now(),
        )
        .await
        .unwrap();
    }
    w
}

const PAGES: [(&str, &str); 7] = [
    ("/admin", "What needs attention"),
    ("/admin/organisations", "Organisations"),
    ("/admin/organisations/new", "Create an organisation"),
    ("/admin/users", "Users"),
    ("/admin/users/new", "Invite a user"),
    ("/admin/policy", "Registry policy profiles"),
    ("/admin/emails", "Failed e-mails"),
];

/// Everyone who is not an administrator.
const OTHERS: [&str; 3] = ["src@example.net", "hm1@arin.example", AUDITOR];

/// Queues one e-mail to `to`; its id.
async fn queued_email(w: &World, to: &str) -> i64 {
    outbox::enqueue(
        &w.db.conn,
        &[OutboundEmail {
            message_id: format!("<test.{to}@ipxfer>"),
            kind: "Filed".into(),
            to: to.into(),
            subject: format!("[ipxfer] a message to {to}"),
            body_text: "Hello".into(),
            body_html: None,
            transfer_id: None,
        }],
        now(),
    )
    .await
    .unwrap();
    email_outbox::Entity::find()
        .filter(email_outbox::Column::ToAddress.eq(to))
        .one(&w.db.conn)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Queues one e-mail and marks it failed, as the sender does after its last retry.
async fn failed_email(w: &World, to: &str) -> i64 {
    let id = queued_email(w, to).await;
    email_outbox::Entity::update_many()
        .col_expr(email_outbox::Column::Status, Expr::value("failed"))
        .col_expr(email_outbox::Column::Attempts, Expr::value(6))
        .col_expr(
            email_outbox::Column::LastError,
            Expr::value("550 5.1.1 mailbox unavailable"),
        )
        .filter(email_outbox::Column::Id.eq(id))
        .exec(&w.db.conn)
        .await
        .unwrap();
    id
}

async fn user_id(w: &World, email: &str) -> i64 {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(&w.db.conn)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no user {email}"))
        .id
}

#[tokio::test]
async fn every_admin_page_opens_for_an_administrator_and_no_one_else() {
    let w = world().await;
    let mut admin = Browser::signed_in(&w.db.conn, ADMIN).await;
    for (uri, heading) in PAGES {
        let page = admin.get(uri).await;
        page.assert_ok();
        assert_eq!(page.text("h1"), heading, "{uri}");
        assert!(
            page.has("nav a[aria-current=page]"),
            "{uri} marks its nav entry"
        );
    }
    for email in OTHERS {
        let mut b = Browser::signed_in(&w.db.conn, email).await;
        for (uri, _) in PAGES {
            let page = b.get(uri).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{email} at {uri}");
        }
    }
    let mut anonymous = Browser::new(&w.db.conn);
    for (uri, _) in PAGES {
        let page = anonymous.get(uri).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{uri}");
        assert!(
            page.location
                .as_deref()
                .unwrap()
                .starts_with("/login?next="),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn every_admin_action_is_refused_to_everyone_else_and_changes_nothing() {
    let w = world().await;
    let email_id = failed_email(&w, "bounce@example.net").await;
    let member = user_id(&w, "src@example.net").await;
    let actions: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/admin/organisations".into(),
            vec![
                ("registry", "arin"),
                ("handle", "NEW-1"),
                ("name", "New Org"),
                ("country", "US"),
            ],
        ),
        (
            "/admin/users".into(),
            vec![
                ("email", "new@example.net"),
                ("display_name", "New Person"),
                ("role", "auditor"),
            ],
        ),
        (format!("/admin/users/{member}/deactivate"), vec![]),
        (format!("/admin/emails/{email_id}/retry"), vec![]),
    ];
    let mut browsers = Vec::new();
    for email in OTHERS {
        browsers.push((email, Browser::signed_in(&w.db.conn, email).await));
    }
    browsers.push(("anonymous", Browser::new(&w.db.conn)));
    for (who, b) in &mut browsers {
        for (uri, fields) in &actions {
            let page = b.post(uri, fields).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{who} posting {uri}");
        }
    }
    let orgs = organisation::Entity::find()
        .filter(organisation::Column::Handle.eq("NEW-1"))
        .all(&w.db.conn)
        .await
        .unwrap();
    assert!(orgs.is_empty());
    let invited = user::Entity::find()
        .filter(user::Column::Email.eq("new@example.net"))
        .all(&w.db.conn)
        .await
        .unwrap();
    assert!(invited.is_empty());
    let m = user::Entity::find_by_id(member)
        .one(&w.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert!(m.active);
    let mail = email_outbox::Entity::find_by_id(email_id)
        .one(&w.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mail.status, "failed");
}

#[tokio::test]
async fn organisations_are_listed_searched_paged_and_created() {
    let w = world().await;
    // Enough organisations for a second page.
    organisations::upsert_many(
        &w.db.conn,
        Rir::Lacnic,
        (0..60)
            .map(|i| NewOrganisation {
                handle: format!("BR-{i:03}"),
                name: format!("Provedor {i:03} Ltda."),
                country: Some("BR".into()),
            })
            .collect(),
        now(),
    )
    .await
    .unwrap();
    let mut b = Browser::signed_in(&w.db.conn, ADMIN).await;

    let page = b.get("/admin/organisations").await;
    page.assert_ok();
    assert_eq!(page.text("table.organisations caption"), "62 organisations");
    assert_eq!(page.texts("table.organisations tbody tr").len(), 50);
    let next = page.attr("a[rel=next]", "href").expect("a next page");
    let second = b.get(&next).await;
    second.assert_ok();
    assert_eq!(second.texts("table.organisations tbody tr").len(), 12);
    assert!(!second.has("a[rel=next]"));

    // Search by handle or name, case-insensitively; the holdings are counted.
    let found = b.get("/admin/organisations?q=ARIN-hold").await;
    assert_eq!(
        found.text("table.organisations caption"),
        "1 organisation matching “ARIN-hold”"
    );
    assert_eq!(
        found.texts("table.organisations tbody td"),
        ["ARIN", "arin-holder", "ARIN holder arin-holder", "US", "2"]
    );
    let literal = b.get("/admin/organisations?q=%25").await;
    assert_eq!(
        literal.text("table.organisations caption"),
        "0 organisations matching “%”"
    );

    // Bad input: a summary at the top, the message at each field, the values kept.
    let bad = b
        .post(
            "/admin/organisations",
            &[
                ("registry", "iana"),
                ("handle", "bad handle!"),
                ("name", ""),
                ("country", "Netherlands"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.texts(".error-summary li").len(), 4);
    assert!(
        bad.text("#handle-error")
            .contains("\"bad handle!\" is not a handle")
    );
    assert_eq!(bad.text("#name-error"), "Enter the organisation's name");
    assert!(
        bad.text("#country-error")
            .contains("\"Netherlands\" is not a country code")
    );
    assert_eq!(bad.attr("#handle", "value").as_deref(), Some("bad handle!"));
    let long = "x".repeat(201);
    let too_long = b
        .post(
            "/admin/organisations",
            &[("registry", "arin"), ("handle", "OK-1"), ("name", &long)],
        )
        .await;
    assert!(
        too_long
            .text("#name-error")
            .contains("200 characters or fewer")
    );

    let created = b
        .post(
            "/admin/organisations",
            &[
                ("registry", "ripencc"),
                ("handle", "ORG-EXAMPLE1-RIPE"),
                ("name", "Example Networks B.V."),
                ("country", "nl"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let listed = b.get(created.location.as_deref().unwrap()).await;
    assert!(listed.text(".banner").contains("Example Networks B.V."));
    assert_eq!(
        listed.texts("table.organisations tbody td"),
        [
            "RIPE NCC",
            "ORG-EXAMPLE1-RIPE",
            "Example Networks B.V.",
            "NL",
            "0"
        ]
    );
    let again = b
        .post(
            "/admin/organisations",
            &[
                ("registry", "ripencc"),
                ("handle", "ORG-EXAMPLE1-RIPE"),
                ("name", "Twice"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        again.text("#handle-error"),
        "RIPE NCC already has an organisation ORG-EXAMPLE1-RIPE"
    );
}

#[tokio::test]
async fn users_are_invited_and_shown_as_pending_until_they_choose_a_password() {
    let w = world().await;
    let mut b = Browser::signed_in(&w.db.conn, ADMIN).await;
    let list = b.get("/admin/users").await;
    list.assert_ok();
    assert_eq!(list.text("table.users caption"), "7 accounts");
    assert!(
        list.texts("table.users td")
            .contains(&"member of ARIN holder arin-holder (ARIN)".to_owned())
    );

    let bad = b
        .post(
            "/admin/users",
            &[
                ("email", "not an address"),
                ("display_name", ""),
                ("role", "member"),
                ("registry", "ripencc"),
                ("org_handle", "nobody"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad.texts(".error-summary li"),
        [
            "Enter an e-mail address like name@example.net",
            "Enter the person's name (up to 120 characters)",
            "RIPE NCC has no organisation nobody"
        ]
    );
    assert_eq!(bad.attr("#org_handle", "value").as_deref(), Some("nobody"));
    assert!(bad.has("#role-member[checked]"));
    let no_role = b
        .post(
            "/admin/users",
            &[("email", "x@example.net"), ("display_name", "X")],
        )
        .await;
    assert_eq!(no_role.text("#role-error"), "Choose a role");
    let taken = b
        .post(
            "/admin/users",
            &[
                ("email", "src@example.net"),
                ("display_name", "Again"),
                ("role", "auditor"),
            ],
        )
        .await;
    assert_eq!(
        taken.text("#email-error"),
        "src@example.net already has an account"
    );

    let invited = b
        .post(
            "/admin/users",
            &[
                ("email", "New.Member@Example.net"),
                ("display_name", "Nina Member"),
                ("role", "member"),
                ("registry", "ripencc"),
                ("org_handle", "ripe-holder"),
            ],
        )
        .await;
    assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.body);
    let list = b.get("/admin/users").await;
    assert!(
        list.text(".banner")
            .contains("Nina Member <new.member@example.net> is invited")
    );
    let u = user::Entity::find()
        .filter(user::Column::Email.eq("new.member@example.net"))
        .one(&w.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (u.role.as_str(), u.organisation_id, u.password_hash),
        ("member", Some(w.ripe_org), None)
    );
    assert_eq!(list.text(&format!("#user-{} .tag", u.id)), "invited");
    let mail = email_outbox::Entity::find()
        .filter(email_outbox::Column::ToAddress.eq("new.member@example.net"))
        .one(&w.db.conn)
        .await
        .unwrap()
        .expect("an invitation e-mail");
    assert_eq!(mail.kind, "Invitation");

    let attention = b.get("/admin").await;
    assert_eq!(
        attention.texts("table.invitations tbody td")[..3],
        ["Nina Member", "new.member@example.net", "member"]
    );
    assert!(
        attention
            .text("#failed-emails + p")
            .contains("No e-mail has failed")
    );
}

#[tokio::test]
async fn a_user_is_deactivated_after_confirmation_and_reactivated() {
    let w = world().await;
    let member = user_id(&w, "src@example.net").await;
    let mut b = Browser::signed_in(&w.db.conn, ADMIN).await;
    let mut victim = Browser::signed_in(&w.db.conn, "src@example.net").await;

    let confirm = b.get(&format!("/admin/users/{member}/deactivate")).await;
    confirm.assert_ok();
    assert_eq!(confirm.text("h1"), "Deactivate src@example.net?");
    assert_eq!(
        confirm.text("main form button"),
        "Deactivate src@example.net"
    );
    let done = b
        .post(&format!("/admin/users/{member}/deactivate"), &[])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let list = b.get("/admin/users").await;
    assert_eq!(list.text(&format!("#user-{member} .tag")), "deactivated");
    // The open session no longer counts, and signing in fails.
    let page = victim.get("/lookup").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let again = Browser::new(&w.db.conn)
        .post(
            "/login",
            &[("email", "src@example.net"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);

    b.post(&format!("/admin/users/{member}/reactivate"), &[])
        .await;
    let list = b.get("/admin/users").await;
    assert_eq!(list.text(&format!("#user-{member} .tag")), "active");
    Browser::signed_in(&w.db.conn, "src@example.net").await;

    // An administrator cannot lock themself out.
    let me = user_id(&w, ADMIN).await;
    let own = b.post(&format!("/admin/users/{me}/deactivate"), &[]).await;
    assert_eq!(own.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        b.get(&format!("/admin/users/{me}/suspend")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_policy_page_shows_the_running_profiles_with_overrides() {
    let w = world().await;
    let settings =
        Settings::with_policy_overrides("[ripencc.minimum_size]\nprefix = \"/22\"\n").unwrap();
    let mut b = Browser::with_state(AppState::new(w.db.conn.clone(), settings));
    b.sign_in(ADMIN).await;
    let page = b.get("/admin/policy").await;
    page.assert_ok();
    assert_eq!(
        page.texts("section.registry-policy h2"),
        ["AFRINIC", "APNIC", "ARIN", "LACNIC", "RIPE NCC"]
    );
    assert_eq!(
        page.texts("#arin table.rules tbody tr:first-child > *"),
        ["Smallest block", "/24", "ARIN NRPM 8.5.3"]
    );
    assert_eq!(
        page.texts("#ripencc table.rules tbody tr:first-child > *")[1],
        "/22"
    );
    assert_eq!(
        page.texts("#arin table.fees tbody tr:first-child > *"),
        [
            "ARIN transfer processing fee",
            "source (recipient if outside the registry)",
            "USD 500.00"
        ]
    );
    assert!(
        page.texts("#afrinic table.rules tbody td")
            .contains(&"not accepted".to_owned())
    );
    // Which values are confirmed and which are defaults, per registry.
    let ripe = page.text("#defaults-ripencc");
    assert!(
        ripe.contains("Configurable defaults, not confirmed against RIPE NCC's published policy")
            && ripe.contains("smallest block /22 (minimum_size)")
            && ripe.contains("no transfer fee (fees)"),
        "{ripe}"
    );
    assert!(
        page.text("#defaults-arin")
            .contains("restricted: the NRPM 4.10")
    );
}

#[tokio::test]
async fn failed_emails_are_listed_and_retried_once() {
    let w = world().await;
    let id = failed_email(&w, "bounce@example.net").await;
    let mut b = Browser::signed_in(&w.db.conn, ADMIN).await;
    let attention = b.get("/admin").await;
    assert_eq!(attention.text(".count"), "1");

    let page = b.get("/admin/emails").await;
    page.assert_ok();
    let row = page.texts(&format!("#email-{id} td"));
    assert_eq!(row[0], "bounce@example.net");
    assert_eq!(row[2], "6");
    assert_eq!(row[3], "550 5.1.1 mailbox unavailable");

    let retried = b.post(&format!("/admin/emails/{id}/retry"), &[]).await;
    assert_eq!(retried.location.as_deref(), Some("/admin/emails"));
    let after = b.get("/admin/emails").await;
    assert!(after.text(".banner").contains("queued again"));
    assert!(!after.has(&format!("#email-{id}")));
    let m = email_outbox::Entity::find_by_id(id)
        .one(&w.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((m.status.as_str(), m.attempts), ("pending", 0));

    // A second retry of the same message changes nothing and says so.
    b.post(&format!("/admin/emails/{id}/retry"), &[]).await;
    let again = b.get("/admin/emails").await;
    assert!(again.text(".banner").contains("no longer failed"));
}

#[tokio::test]
async fn the_outbox_lists_failed_messages_newest_first_and_retries_only_those() {
    let w = world().await;
    let first = failed_email(&w, "a@example.net").await;
    let second = failed_email(&w, "b@example.net").await;
    outbox::enqueue(
        &w.db.conn,
        &[OutboundEmail {
            message_id: "<pending@ipxfer>".into(),
            kind: "Filed".into(),
            to: "c@example.net".into(),
            subject: "s".into(),
            body_text: "b".into(),
            body_html: None,
            transfer_id: None,
        }],
        now(),
    )
    .await
    .unwrap();
    let failed = outbox::failed(&w.db.conn, 10).await.unwrap();
    assert_eq!(
        failed.iter().map(|m| m.id).collect::<Vec<_>>(),
        [second, first]
    );
    assert_eq!(outbox::failed(&w.db.conn, 1).await.unwrap().len(), 1);
    assert_eq!(outbox::count_failed(&w.db.conn).await.unwrap(), 2);
    let later = now() + time::Duration::hours(1);
    assert!(
        outbox::requeue_failed(&w.db.conn, first, later)
            .await
            .unwrap()
    );
    let m = email_outbox::Entity::find_by_id(first)
        .one(&w.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (m.status.as_str(), m.attempts, m.next_attempt_at),
        ("pending", 0, later)
    );
    assert!(
        !outbox::requeue_failed(&w.db.conn, first, now())
            .await
            .unwrap()
    );
    assert!(
        !outbox::requeue_failed(&w.db.conn, 9999, now())
            .await
            .unwrap()
    );
    assert_eq!(outbox::count_failed(&w.db.conn).await.unwrap(), 1);
}

/// The admin page's invitations (one joined read): open links to users who have set no
/// password, each user once with the latest expiry, every column as stored; not used, expired,
/// accepted or deactivated ones. The page reads them with its counts' key and its failed
/// e-mails in one statement (`users::attention`).
#[tokio::test]
async fn pending_invitations_are_the_open_links_of_users_without_a_password() {
    use ipxfer::db::entities::auth_token;
    use sea_orm::{ActiveModelTrait, Set};
    let w = world().await;
    let conn = &w.db.conn;
    let t = now();
    let invite = |email: &'static str| NewUser {
        email,
        display_name: email,
        role: "member",
        organisation_id: Some(w.ripe_org),
        registry: None,
        password_hash: None,
    };
    let twice = users::insert(conn, invite("twice@example.net"), t)
        .await
        .unwrap();
    let used = users::insert(conn, invite("used@example.net"), t)
        .await
        .unwrap();
    let expired = users::insert(conn, invite("expired@example.net"), t)
        .await
        .unwrap();
    let gone = users::insert(conn, invite("gone@example.net"), t)
        .await
        .unwrap();
    users::set_active(conn, gone.id, false).await.unwrap();
    let mut accepted = invite("accepted@example.net");
    accepted.password_hash = Some("set".into());
    let accepted = users::insert(conn, accepted, t).await.unwrap();
    for (user_id, purpose, expires, used_at) in [
        (twice.id, "invitation", t + time::Duration::days(2), None),
        (twice.id, "invitation", t + time::Duration::days(7), None),
        (
            twice.id,
            "password_reset",
            t + time::Duration::days(9),
            None,
        ),
        (used.id, "invitation", t + time::Duration::days(7), Some(t)),
        (
            expired.id,
            "invitation",
            t - time::Duration::minutes(1),
            None,
        ),
        (gone.id, "invitation", t + time::Duration::days(7), None),
        (accepted.id, "invitation", t + time::Duration::days(7), None),
    ] {
        auth_token::ActiveModel {
            user_id: Set(user_id),
            purpose: Set(purpose.into()),
            token_hash: Set(format!("{user_id}-{purpose}-{expires}")),
            expires_at: Set(expires),
            used_at: Set(used_at),
            created_at: Set(t),
            ..Default::default()
        }
        .insert(conn)
        .await
        .unwrap();
    }
    let pending: Vec<_> = users::pending_invitations(conn, t)
        .await
        .unwrap()
        .into_iter()
        .map(|(u, expires)| (u.email, expires))
        .collect();
    assert_eq!(
        pending,
        [("twice@example.net".to_owned(), t + time::Duration::days(7))]
    );
    // The page reads them in one statement with its other figures, each as read alone.
    failed_email(&w, "bounce@example.net").await;
    let attention = users::attention(conn, t).await.unwrap();
    assert_eq!(attention.failed_emails, 1);
    assert_eq!(
        attention.invitations,
        users::pending_invitations(conn, t).await.unwrap()
    );
    assert_eq!(attention.invitations[0].0, twice);
    assert_eq!(
        attention.people_key,
        ipxfer::db::freshness::people_key(conn).await.unwrap()
    );
    assert_eq!(
        attention.failed_emails,
        outbox::count_failed(conn).await.unwrap()
    );
}

/// An administrator creates LACNIC's organisation BR-NEW-LACNIC.
async fn create_organisation(b: &mut Browser) -> crate::browser::Page {
    let form = [
        ("registry", "lacnic"),
        ("handle", "BR-NEW-LACNIC"),
        ("name", "Nova Ltda"),
        ("country", "BR"),
    ];
    b.post("/admin/organisations", &form).await
}

/// The attention page's key (`db::freshness::AttentionKey`) moves with every write of what the
/// page shows (a user, an invitation link, an e-mail entering or leaving `failed`, an
/// organisation, also one an import inserts), once it is committed; e-mails queued, tried and
/// sent, and people signing in, leave it where it was.
#[tokio::test]
async fn the_attention_key_moves_with_every_write_the_attention_page_shows() {
    use ipxfer::db::freshness::{AttentionKey, attention_key};
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let w = world().await;
    let conn = &w.db.conn;
    let key = || async { attention_key(conn).await.unwrap() };
    let mut seen = vec![key().await];
    fn moved(seen: &mut Vec<AttentionKey>, step: &str, now_key: AttentionKey) {
        assert!(!seen.contains(&now_key), "{step}: the key did not move");
        seen.push(now_key);
    }
    // E-mails queued and tried again leave it; one that runs out of attempts moves it.
    queued_email(&w, "quiet@example.net").await;
    conn.execute_unprepared("UPDATE email_outbox SET attempts = attempts + 1, status = 'sent'")
        .await
        .unwrap();
    let mut b = Browser::signed_in(conn, ADMIN).await;
    b.get("/admin").await.assert_ok();
    assert_eq!(Some(&key().await), seen.last(), "queued, sent, signed in");
    let failed = failed_email(&w, "bounce@example.net").await;
    moved(&mut seen, "an e-mail failed", key().await);
    conn.execute_unprepared(&format!(
        "UPDATE email_outbox SET last_error = 'again' WHERE id = {failed}"
    ))
    .await
    .unwrap();
    assert_eq!(Some(&key().await), seen.last(), "a failed e-mail's error");
    assert!(outbox::requeue_failed(conn, failed, now()).await.unwrap());
    moved(&mut seen, "an e-mail queued again", key().await);
    // An invitation through the web, then writes by hand.
    let invited = b
        .post(
            "/admin/users",
            &[
                ("email", "new@example.net"),
                ("display_name", "New"),
                ("role", "auditor"),
            ],
        )
        .await;
    assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.body);
    moved(&mut seen, "an invitation", key().await);
    for sql in [
        "UPDATE auth_tokens SET used_at = created_at".to_owned(),
        "UPDATE users SET active = active".to_owned(),
        "DELETE FROM auth_tokens".to_owned(),
        format!(
            "DELETE FROM email_outbox WHERE id = {}",
            failed_email(&w, "x@example.net").await
        ),
    ] {
        let before = key().await;
        let txn = conn.begin().await.unwrap();
        txn.execute_unprepared(&sql).await.unwrap();
        assert_eq!(key().await, before, "{sql}: not committed yet");
        txn.commit().await.unwrap();
        moved(&mut seen, &sql, key().await);
    }
    let created = create_organisation(&mut b).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    moved(&mut seen, "an organisation", key().await);
    let lacnic = "2.3|lacnic|1|1|19700101|20260101|-0300\n\
                  lacnic|BR|ipv4|200.0.0.0|1024|20100101|allocated|BR-IMPORTED\n";
    ipxfer::services::import::import_delegated(
        conn,
        lacnic.as_bytes(),
        now() + time::Duration::seconds(1),
        &ipxfer::services::import::NoProgress,
    )
    .await
    .unwrap();
    moved(&mut seen, "an import's organisation", key().await);
}

/// The attention page is kept between views (`web::cache::attention`), and every change of what
/// it shows is there on the next view: an invitation sent or accepted, an e-mail failed or
/// queued again, an organisation created; and so is time: an invitation whose link expired
/// leaves it though nothing was written.
#[tokio::test]
async fn the_kept_attention_page_shows_every_change_at_once() {
    let w = world().await;
    let conn = &w.db.conn;
    let clock = ipxfer::clock::ManualClock::at(now());
    let mut b = Browser::with_clock(conn, std::sync::Arc::new(clock.clone()));
    b.sign_in(ADMIN).await;
    let invitations = |page: &crate::browser::Page| page.texts("table.invitations tbody tr").len();
    let counts = |page: &crate::browser::Page| page.texts("main li");
    let first = b.get("/admin").await;
    assert_eq!(invitations(&first), 0);
    assert!(
        first
            .text("#failed-emails + p")
            .contains("No e-mail has failed")
    );
    let before = counts(&first);
    assert_eq!(
        b.get("/admin").await.body,
        first.body,
        "kept, the same page"
    );

    let invite = |email: &'static str| {
        [
            ("email", email),
            ("display_name", email),
            ("role", "auditor"),
        ]
    };
    b.post("/admin/users", &invite("one@example.net")).await;
    clock.advance(time::Duration::days(1));
    b.post("/admin/users", &invite("two@example.net")).await;
    let page = b.get("/admin").await;
    assert_eq!(
        page.texts("table.invitations tbody td.row-head"),
        ["one@example.net", "two@example.net"]
    );
    assert_ne!(counts(&page), before, "the users' count");

    let failed = failed_email(&w, "bounce@example.net").await;
    assert_eq!(b.get("/admin").await.text(".count"), "1");
    outbox::requeue_failed(conn, failed, now()).await.unwrap();
    assert!(!b.get("/admin").await.has(".count"));

    let with_users = counts(&b.get("/admin").await);
    create_organisation(&mut b).await;
    assert_ne!(
        counts(&b.get("/admin").await),
        with_users,
        "the organisations' count"
    );

    // The first link expires six days after the second was sent: nothing is written.
    clock.advance(time::Duration::days(6) + time::Duration::minutes(1));
    assert_eq!(
        b.get("/admin")
            .await
            .texts("table.invitations tbody td.row-head"),
        ["two@example.net"]
    );
}
