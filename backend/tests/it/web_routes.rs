//! Every route for every role: a walk through the router asserting who is let in, who is
//! refused (403), who is told a transfer does not exist (404) and who is sent to sign in. It runs against transfers in several states, so
//! the state conditions of `authz::can` are enforced by the routes too. POSTs send forms that
//! change nothing when accepted (a missing field is a 422), except the last withdrawal.

use axum::http::StatusCode;
use ipxfer::db::users::{self, NewUser};
use ipxfer::domain::Rir;
use ipxfer::services::import::{self, NoProgress};
use ipxfer::services::transfers::Command;

use crate::browser::{Browser, password_hash};
use crate::harness::now;
use crate::transfers::{World, need};

const SRC: &str = "src@example.net";
const DST: &str = "dst@example.net";
const OTHER: &str = "other@example.au";
const HM_SRC: &str = "hm1@arin.example";
const HM_DST: &str = "hm@ripe.example";
const HM_OTHER: &str = "hm@apnic.example";
const AUDITOR: &str = "audit@example.org";
const ADMIN: &str = "admin@example.org";
const ANON: &str = "";

/// Everyone, in the order of the expectation strings below.
const ROLES: [&str; 9] = [
    SRC, DST, OTHER, HM_SRC, HM_DST, HM_OTHER, AUDITOR, ADMIN, ANON,
];

/// The World plus an unrelated organisation and member, a hostmaster of an uninvolved registry,
/// an auditor and an admin.
async fn everyone() -> World {
    let w = World::new().await;
    let apnic = "2|apnic|1|1|19700101|20260101|+1000\n\
                 apnic|AU|ipv4|1.0.0.0|256|20100101|allocated|apnic-holder\n";
    import::import_delegated(&w.db.conn, apnic.as_bytes(), now(), &NoProgress)
        .await
        .unwrap();
    let org = ipxfer::db::organisations::ids_by_handle(&w.db.conn, Rir::Apnic)
        .await
        .unwrap()["apnic-holder"];
    for (email, role, org, registry) in [
        (OTHER, "member", Some(org), None),
        (HM_OTHER, "hostmaster", None, Some(Rir::Apnic)),
        (AUDITOR, "auditor", None, None),
        (ADMIN, "admin", None, None),
    ] {
        users::insert(
            &w.db.conn,
            NewUser {
                email,
                display_name: email,
                role,
                organisation_id: org,
                registry,
                password_hash: Some(password_hash()),
            },
            now(),
        )
        .await
        .unwrap();
    }
    w
}

/// What a role gets from a route: `Y` let in, `N` refused with 403, `H` told there is no such
/// transfer (404: one they may not see answers as one that does not exist), `L` sent to sign in.
fn outcome(status: StatusCode, location: Option<&str>) -> char {
    match (status, location) {
        (StatusCode::FORBIDDEN, _) => 'N',
        (StatusCode::NOT_FOUND, _) => 'H',
        (StatusCode::SEE_OTHER, Some(l)) if l.starts_with("/login") => 'L',
        (s, _) if s.is_success() || s.is_redirection() || s == StatusCode::UNPROCESSABLE_ENTITY => {
            'Y'
        }
        (s, _) => panic!("unexpected status {s}"),
    }
}

struct Walk {
    browsers: Vec<Browser>,
    failures: Vec<String>,
}

impl Walk {
    async fn new(w: &World) -> Walk {
        let mut browsers = Vec::new();
        for email in ROLES {
            browsers.push(if email.is_empty() {
                Browser::new(&w.db.conn)
            } else {
                Browser::signed_in(&w.db.conn, email).await
            });
        }
        Walk {
            browsers,
            failures: Vec::new(),
        }
    }

    /// `expected` has one letter per role of [`ROLES`].
    async fn get(&mut self, path: &str, expected: &str) {
        let mut got = String::new();
        for b in &mut self.browsers {
            let p = b.get(path).await;
            got.push(outcome(p.status, p.location.as_deref()));
        }
        self.check("GET", path, expected, got);
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)], expected: &str) {
        let mut got = String::new();
        for b in &mut self.browsers {
            let p = b.post(path, fields).await;
            got.push(outcome(p.status, p.location.as_deref()));
        }
        self.check("POST", path, expected, got);
    }

    async fn upload(&mut self, path: &str, expected: &str) {
        let mut got = String::new();
        for b in &mut self.browsers {
            let p = b.post_multipart(path, &[("kind", "other")], &[]).await;
            got.push(outcome(p.status, p.location.as_deref()));
        }
        self.check("POST", path, expected, got);
    }

    fn check(&mut self, method: &str, path: &str, expected: &str, got: String) {
        let expected: String = expected.split_whitespace().collect();
        if got != expected {
            self.failures
                .push(format!("{method} {path}: expected {expected}, got {got}"));
        }
    }

    fn assert_all_passed(&self) {
        assert!(
            self.failures.is_empty(),
            "roles in order src dst other hm_src hm_dst hm_other auditor admin anonymous:\n{}",
            self.failures.join("\n")
        );
    }
}

#[tokio::test]
async fn every_route_lets_in_exactly_the_roles_authorization_allows() {
    let w = everyone().await;
    // One transfer per state the routes depend on.
    let awaiting = w.file("20.0.4.0/22").await.unwrap();
    w.attach_documents(awaiting).await;
    let in_review = w.file("20.0.8.0/22").await.unwrap();
    w.attach_documents(in_review).await;
    w.act(
        &w.recipient_member,
        in_review,
        Command::Accept { need: need() },
    )
    .await
    .unwrap();
    let finalizing = w.ready_to_finalize("20.0.12.0/22").await;
    let mut walk = Walk::new(&w).await;

    //                                 src dst oth hmS hmD hmO aud adm anon
    walk.get("/transfers", "           Y   Y   Y   Y   Y   Y   Y   Y   L")
        .await;
    walk.get("/transfers/new", "       Y   Y   Y   N   N   N   N   N   L")
        .await;
    walk.get("/queue", "               N   N   N   Y   Y   Y   N   N   L")
        .await;
    walk.get("/holdings", "            Y   Y   Y   Y   Y   Y   Y   Y   Y")
        .await;
    walk.get("/lookup?q=20.0.0.0/22", "Y  Y   Y   Y   Y   Y   Y   Y   L")
        .await;
    // RDAP is public: the same answer for everyone, signed in or not.
    walk.get("/rdap/ip/20.0.0.1", "    Y   Y   Y   Y   Y   Y   Y   Y   Y")
        .await;
    for admin_page in [
        "/admin",
        "/admin/organisations",
        "/admin/organisations/new",
        "/admin/users",
        "/admin/users/new",
        "/admin/policy",
        "/admin/emails",
    ] {
        walk.get(admin_page, "     N   N   N   N   N   N   N   Y   L")
            .await;
    }
    // Hostmasters read the ledger; verifying and exporting are for auditors and admins.
    walk.get("/ledger", "              N   N   N   Y   Y   Y   Y   Y   L")
        .await;
    for audit_page in [
        "/ledger/verify",
        "/ledger/exports",
        "/ledger/export?format=csv",
    ] {
        walk.get(audit_page, "     N   N   N   N   N   N   Y   Y   L")
            .await;
    }
    walk.get("/stats", "               N   N   N   Y   Y   Y   Y   Y   L")
        .await;
    let t = format!("/transfers/{awaiting}");
    walk.get(&t, "                     Y   Y   H   Y   Y   H   Y   Y   L")
        .await;
    let doc = {
        let page = walk.browsers[0].get(&t).await;
        page.attr("#documents a", "href").unwrap()
    };
    walk.get(&doc, "                   Y   Y   H   Y   Y   H   Y   Y   L")
        .await;
    walk.get(&format!("{t}/withdraw"), "Y  N   H   N   N   H   N   N   L")
        .await;
    walk.get(&format!("{t}/reject?side=source"), "N N H N N H  N   N   L")
        .await;
    walk.get(&format!("{t}/finalize"), "N  N   H   N   N   H   N   N   L")
        .await;
    walk.post(
        &format!("{t}/accept"),
        &[("horizon_months", "x")],
        "N Y H N N H N N H",
    )
    .await;
    walk.post(&format!("{t}/answer"), &[], "N N H N N H N N H")
        .await;
    walk.post(
        &format!("{t}/approve"),
        &[("side", "source")],
        "N N H N N H N N H",
    )
    .await;
    walk.post(&format!("{t}/confirm-fees"), &[], "N N H N N H N N H")
        .await;
    walk.post(&format!("{t}/finalize"), &[], "N N H N N H N N H")
        .await;
    walk.post(&format!("{t}/dispute"), &[], "N N H N N H N N H")
        .await;
    walk.post(&format!("{t}/resolve-dispute"), &[], "N N H N N H N N H")
        .await;
    walk.upload(&format!("{t}/documents"), "Y Y H N N H N N L")
        .await;

    let r = format!("/transfers/{in_review}");
    walk.get(&format!("{r}/reject?side=source"), "N N H Y N H  N   N   L")
        .await;
    walk.get(
        &format!("{r}/reject?side=recipient"),
        "N N H N N H N  N   L",
    )
    .await;
    walk.post(
        &format!("{r}/request-info"),
        &[("side", "source")],
        "N N H Y N H N N H",
    )
    .await;
    walk.post(
        &format!("{r}/reject"),
        &[("side", "source")],
        "N N H Y N H N N H",
    )
    .await;
    walk.post(
        &format!("{r}/approve"),
        &[("side", "recipient")],
        "N N H N N H N N H",
    )
    .await;
    walk.post(&format!("{r}/accept"), &[], "N N H N N H N N H")
        .await;

    let f = format!("/transfers/{finalizing}");
    walk.get(&format!("{f}/finalize"), "N  N   H   Y   N   H   N   N   L")
        .await;
    walk.post(&format!("{f}/dispute"), &[], "N N H Y N H N N H")
        .await;
    walk.post(&format!("{f}/confirm-fees"), &[], "N N H N N H N N H")
        .await;

    // Last, because they change the transfers: only the filer withdraws, until completion.
    walk.post(&format!("{f}/withdraw"), &[], "Y N H N N H N N H")
        .await;
    walk.post(&format!("{t}/withdraw"), &[], "Y N H N N H N N H")
        .await;
    walk.assert_all_passed();
}
