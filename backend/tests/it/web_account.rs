//! Signing in and out, throttling, CSRF, password resets and invitations, through the router.

use axum::http::StatusCode;
use ipxfer::db::entities::email_outbox;
use ipxfer::domain::authz::AccountRole;
use ipxfer::services::accounts::{self, Invitation};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::browser::{Browser, PASSWORD};
use crate::harness::now;
use crate::transfers::World;

/// The link in the last e-mail queued for `to`.
async fn last_link_to(w: &World, to: &str) -> String {
    let mails = email_outbox::Entity::find().all(&w.db.conn).await.unwrap();
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.to_address == to)
        .unwrap_or_else(|| panic!("no e-mail to {to}"));
    let link = mail
        .body_text
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .expect("a link in the e-mail");
    link.split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
        .unwrap()
}

#[tokio::test]
async fn signing_in_rotates_the_session_and_leads_to_the_roles_first_page() {
    let w = World::new().await;
    let mut b = Browser::new(&w.db.conn);
    let page = b.get("/login").await;
    page.assert_ok();
    assert_eq!(page.text("h1"), "Sign in");
    let before = b.cookie_value();
    let res = b
        .post(
            "/login",
            &[
                ("email", "SRC@example.net "),
                ("password", PASSWORD),
                ("next", "/transfers/new"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location.as_deref(), Some("/transfers/new"));
    assert_ne!(
        b.cookie_value(),
        before,
        "the session id changes at sign-in"
    );
    let home = b.get("/").await;
    assert_eq!(home.location.as_deref(), Some("/transfers"));
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let w = World::new().await;
    let mut b = Browser::new(&w.db.conn);
    b.get("/login").await;
    assert!(
        b.last_set_cookie().is_none(),
        "no session before signing in"
    );
    b.sign_in("src@example.net").await;
    let cookie = b.last_set_cookie().expect("a session cookie");
    assert!(cookie.starts_with("ipxfer_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http in tests: {cookie}");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_address_get_the_same_answer() {
    let w = World::new().await;
    let mut b = Browser::new(&w.db.conn);
    let wrong = b
        .post(
            "/login",
            &[("email", "src@example.net"), ("password", "not it at all")],
        )
        .await;
    let unknown = b
        .post(
            "/login",
            &[("email", "nobody@example.net"), ("password", PASSWORD)],
        )
        .await;
    for page in [&wrong, &unknown] {
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(page.text(".error-summary li"), accounts::SIGN_IN_FAILED);
    }
    // The address typed is kept; the password is not.
    assert_eq!(
        wrong.attr("#email", "value").as_deref(),
        Some("src@example.net")
    );
    assert_eq!(wrong.attr("#password", "value"), None);
}

#[tokio::test]
async fn repeated_failures_lock_the_address_for_a_while() {
    let w = World::new().await;
    let mut b = Browser::new(&w.db.conn);
    for _ in 0..accounts::MAX_FAILED_LOGINS {
        let p = b
            .post(
                "/login",
                &[
                    ("email", "src@example.net"),
                    ("password", "guess guess guess"),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let p = b
        .post(
            "/login",
            &[("email", "src@example.net"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        p.text(".error-summary")
            .contains("Too many failed sign-ins")
    );
    // Another address is not affected.
    let mut other = Browser::new(&w.db.conn);
    other.sign_in("dst@example.net").await;
}

#[tokio::test]
async fn forms_without_the_sessions_token_or_from_another_site_are_refused() {
    let w = World::new().await;
    let mut b = Browser::new(&w.db.conn);
    b.get("/login").await;
    let p = b
        .post_raw(
            "/login",
            &[("email", "src@example.net"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.body.contains("did not come from ipxfer"));
    let p = b
        .post_raw(
            "/login",
            &[
                ("csrf_token", "forged"),
                ("email", "src@example.net"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = b.post_cross_site("/logout").await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let w = World::new().await;
    let mut b = Browser::signed_in(&w.db.conn, "src@example.net").await;
    let old_cookie = b.cookie_value();
    let p = b.post("/logout", &[]).await;
    assert_eq!(p.location.as_deref(), Some("/login"));
    let home = b.get("/").await;
    home.assert_ok();
    assert!(
        home.has("a.account-link"),
        "signed out: the header offers to sign in"
    );
    // The old cookie no longer opens the session (it was deleted from the store).
    let mut thief = Browser::new(&w.db.conn);
    thief.set_cookie(old_cookie.unwrap());
    assert_eq!(thief.get("/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_password_reset_link_works_once() {
    let w = World::new().await;
    let mut b = Browser::new(&w.db.conn);
    let p = b
        .post("/password-reset", &[("email", "nobody@example.net")])
        .await;
    p.assert_ok();
    assert!(
        p.text("[role=status]")
            .contains("If nobody@example.net has an ipxfer account")
    );
    assert_eq!(
        email_outbox::Entity::find()
            .count(&w.db.conn)
            .await
            .unwrap(),
        0
    );
    let p = b
        .post("/password-reset", &[("email", "src@example.net")])
        .await;
    assert!(
        p.text("[role=status]")
            .contains("If src@example.net has an ipxfer account")
    );
    let link = last_link_to(&w, "src@example.net").await;
    assert!(link.starts_with("/password-reset/"), "{link}");
    let form = b.get(&link).await;
    form.assert_ok();
    assert_eq!(form.text("h1"), "Choose a new password");
    let short = b
        .post(&link, &[("password", "short"), ("confirmation", "short")])
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        short
            .text(".error-summary")
            .contains("at least 12 characters")
    );
    let done = b
        .post(
            &link,
            &[
                ("password", "a brand new passphrase"),
                ("confirmation", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let again = b.get(&link).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("expired or was already used"));
    let mut fresh = Browser::new(&w.db.conn);
    let p = fresh
        .post(
            "/login",
            &[
                ("email", "src@example.net"),
                ("password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_invited_person_chooses_a_password_and_is_signed_in() {
    let w = World::new().await;
    let inv = Invitation {
        email: "New.Person@Example.net".into(),
        display_name: "New Person".into(),
        role: AccountRole::Member,
        organisation_id: Some(w.ripe_org),
        registry: None,
    };
    assert!(accounts::check_invitation(&inv).is_empty());
    let u = accounts::invite(&w.db.conn, &inv, "http://ipxfer.test", now())
        .await
        .unwrap();
    assert_eq!(u.email, "new.person@example.net");
    assert!(u.password_hash.is_none());
    let dup = accounts::invite(&w.db.conn, &inv, "http://ipxfer.test", now()).await;
    assert!(
        dup.unwrap_err()
            .to_string()
            .contains("already has an account")
    );
    let link = last_link_to(&w, "new.person@example.net").await;
    let mut b = Browser::new(&w.db.conn);
    assert_eq!(b.get(&link).await.text("h1"), "Choose your password");
    let p = b
        .post(
            &link,
            &[
                ("password", "invited and welcome"),
                ("confirmation", "invited and welcome"),
            ],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/"));
    assert_eq!(b.get("/").await.location.as_deref(), Some("/transfers"));
}

#[tokio::test]
async fn expired_sessions_and_old_attempts_are_pruned() {
    use ipxfer::db::entities::{login_attempt, session};
    let w = World::new().await;
    // On the system clock, which the session store stamps expiry with, so that sessions and
    // attempts are due together.
    let mut b = Browser::with_clock(&w.db.conn, std::sync::Arc::new(ipxfer::clock::SystemClock));
    b.sign_in("src@example.net").await;
    b.post(
        "/login",
        &[("email", "nobody@example.net"), ("password", "x")],
    )
    .await;
    let sessions = || session::Entity::find().count(&w.db.conn);
    let attempts = || login_attempt::Entity::find().count(&w.db.conn);
    assert!(sessions().await.unwrap() >= 1);
    assert_eq!(attempts().await.unwrap(), 2);
    // Nothing is due an hour later: the session lasts eight idle hours, attempts a day.
    let real_now = time::OffsetDateTime::now_utc();
    assert_eq!(
        accounts::prune(&w.db.conn, real_now + time::Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    accounts::prune(&w.db.conn, real_now + time::Duration::days(2))
        .await
        .unwrap();
    assert_eq!(sessions().await.unwrap(), 0);
    assert_eq!(attempts().await.unwrap(), 0);
}

#[tokio::test]
async fn page_views_write_the_session_only_to_keep_it_alive() {
    use ipxfer::db::entities::session;
    let w = World::new().await;
    // An anonymous visit to a page without forms starts no session.
    let mut anonymous = Browser::new(&w.db.conn);
    anonymous.get("/").await.assert_ok();
    assert!(anonymous.last_set_cookie().is_none());
    assert_eq!(session::Entity::find().count(&w.db.conn).await.unwrap(), 0);

    let clock = ipxfer::clock::ManualClock::at(time::OffsetDateTime::now_utc());
    let mut b = Browser::with_clock(&w.db.conn, std::sync::Arc::new(clock.clone()));
    b.sign_in("src@example.net").await;
    b.get("/transfers").await.assert_ok();
    let row = || async {
        session::Entity::find()
            .one(&w.db.conn)
            .await
            .unwrap()
            .unwrap()
            .data
    };
    let before = row().await;
    b.get("/transfers").await.assert_ok();
    b.get("/transfers/new").await.assert_ok();
    assert_eq!(
        row().await,
        before,
        "reading pages does not rewrite the session"
    );
    clock.advance(time::Duration::minutes(16));
    b.get("/transfers").await.assert_ok();
    assert_ne!(
        row().await,
        before,
        "a quarter of an hour later the idle clock restarts"
    );
}
