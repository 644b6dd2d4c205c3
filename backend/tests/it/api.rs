//! The JSON API through the router: a whole inter-RIR transfer driven by tokens alone and found
//! in the ledger; refusals without a token, with an expired, revoked or under-scoped token, and
//! with only a browser session; idempotency keys (sequential and concurrent retries file one
//! transfer); the rate limit; and the account page where people create and revoke tokens.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use ipxfer::db::entities::{api_token, transfer};
use ipxfer::db::users::{self, NewUser};
use ipxfer::services::api_tokens::{self, NewToken, Scope};
use ipxfer::web::{AppState, router};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::browser::{Browser, password_hash};
use crate::harness::now;
use crate::transfers::World;

const PDF: &[u8] = b"%PDF-1.7 a signed transfer agreement";

/// An API client over the router, as curl would call it.
struct Api {
    app: Router,
}

/// An answer: status, headers and the JSON body (`Value::Null` when it is not JSON).
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The problem document's detail.
    fn detail(&self) -> &str {
        self.body["detail"].as_str().unwrap_or_default()
    }
}

impl Api {
    /// A client of [`crate::harness::app_state`]: its server stands at the tests' fixed date.
    fn new(db: &sea_orm::DatabaseConnection) -> Api {
        Api::with_state(crate::harness::app_state(db))
    }

    fn with_state(state: AppState) -> Api {
        Api { app: router(state) }
    }

    async fn send(&self, req: Request<Body>) -> Answer {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    fn request(method: &str, uri: &str, token: Option<&str>) -> axum::http::request::Builder {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        b
    }

    async fn get(&self, uri: &str, token: Option<&str>) -> Answer {
        self.send(Api::request("GET", uri, token).body(Body::empty()).unwrap())
            .await
    }

    async fn post(&self, uri: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        self.post_with_key(uri, token, body, None).await
    }

    async fn post_with_key(
        &self,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
        key: Option<&str>,
    ) -> Answer {
        let mut b = Api::request("POST", uri, token);
        if let Some(k) = key {
            b = b.header("idempotency-key", k);
        }
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        };
        self.send(req.unwrap()).await
    }

    /// Uploads a document as `multipart/form-data`.
    async fn upload(&self, id: i64, token: &str, kind: &str, filename: &str) -> Answer {
        let boundary = "api-test-boundary";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"document\"; \
                 filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(PDF);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Api::request(
            "POST",
            &format!("/api/v1/transfers/{id}/documents"),
            Some(token),
        )
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap();
        self.send(req).await
    }
}

/// A token for a user, expiring 30 days after the tests' date (the API's clock, `harness::app_state`).
async fn token(db: &sea_orm::DatabaseConnection, email: &str, scopes: &[Scope]) -> String {
    let new = NewToken {
        name: format!("test token of {email}"),
        scopes: scopes.to_vec(),
        days: 30,
    };
    api_tokens::create_for_email(db, email, &new, now())
        .await
        .unwrap()
        .1
}

const RW: &[Scope] = &[Scope::Read, Scope::TransfersWrite];

async fn auditor(w: &World) -> &'static str {
    users::insert(
        &w.db.conn,
        NewUser {
            email: "audit@example.org",
            display_name: "Ada Auditor",
            role: "auditor",
            organisation_id: None,
            registry: None,
            password_hash: Some(password_hash()),
        },
        now(),
    )
    .await
    .unwrap();
    "audit@example.org"
}

fn filing(w: &World, block: &str) -> Value {
    json!({
        "recipient_org_id": w.ripe_org,
        "kind": "RESOURCE_TRANSFER",
        "blocks": [block],
        "agreed_price": {"amount": "25000", "currency": "USD"},
    })
}

async fn transfers_filed(w: &World) -> u64 {
    transfer::Entity::find().count(&w.db.conn).await.unwrap()
}

#[tokio::test]
async fn a_full_inter_rir_transfer_runs_through_the_api_alone_and_reaches_the_ledger() {
    let w = World::new().await;
    let db = &w.db.conn;
    let api = Api::new(db);
    let src = token(db, "src@example.net", RW).await;
    let dst = token(db, "dst@example.net", RW).await;
    let arin = token(db, "hm1@arin.example", RW).await;
    let ripe = token(db, "hm@ripe.example", RW).await;
    let audit = token(db, auditor(&w).await, &[Scope::Read]).await;

    // The source files, then attaches the two documents its registries ask for.
    let filed = api
        .post_with_key(
            "/api/v1/transfers",
            Some(&src),
            Some(filing(&w, "20.0.4.0/22")),
            Some("file-1"),
        )
        .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.body);
    let id = filed.body["id"].as_i64().unwrap();
    assert_eq!(
        filed.headers[header::LOCATION],
        format!("/api/v1/transfers/{id}")
    );
    assert_eq!(filed.body["state"], "awaiting_recipient");
    assert_eq!(filed.body["inter_rir"], true);
    assert_eq!(filed.body["blocks"], json!(["20.0.4.0/22"]));
    assert_eq!(filed.body["price"]["currency"], "USD");
    for (kind, name) in [
        ("transfer_agreement", "agreement.pdf"),
        ("company_registration", "registration.pdf"),
    ] {
        let doc = api.upload(id, &src, kind, name).await;
        assert_eq!(doc.status, StatusCode::CREATED, "{}", doc.body);
        assert_eq!(doc.body["kind"], kind);
    }

    // The recipient sees it in its list and accepts with the plan RIPE NCC asks for.
    let list = api.get("/api/v1/transfers", Some(&dst)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["items"][0]["id"], id);
    assert_eq!(
        list.body["items"][0]["actions"],
        json!(["accept", "upload_document"])
    );
    let step = |path: &str| format!("/api/v1/transfers/{id}/{path}");
    let accepted = api
        .post(
            &step("accept"),
            Some(&dst),
            Some(json!({"need_text": "Broadband growth", "horizon_months": 60, "utilisation_percent": 50})),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(accepted.body["state"], "source_review");

    // Both registries approve from their queues; ARIN confirms the fees and finalizes.
    let queue = api.get("/api/v1/queue", Some(&arin)).await;
    assert_eq!(queue.status, StatusCode::OK);
    assert_eq!(queue.body["items"][0]["id"], id);
    assert_eq!(queue.body["waiting"], 1);
    assert_eq!(queue.body["overdue"], 0);
    assert!(queue.body["next_after"].is_null(), "{}", queue.body);
    let lost = api.get("/api/v1/queue?after=yesterday", Some(&arin)).await;
    assert_eq!(lost.status, StatusCode::BAD_REQUEST, "{}", lost.body);
    let approved = api
        .post(
            &step("approve"),
            Some(&arin),
            Some(json!({"side": "source"})),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(approved.body["state"], "recipient_review");
    let approved = api
        .post(
            &step("approve"),
            Some(&ripe),
            Some(json!({"side": "recipient", "overrides": []})),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(approved.body["state"], "awaiting_finalization");
    let fees = api.post(&step("confirm-fees"), Some(&arin), None).await;
    assert_eq!(fees.status, StatusCode::OK, "{}", fees.body);
    assert_eq!(fees.body["fees_confirmed"], true);
    let done = api.post(&step("finalize"), Some(&arin), None).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["state"], "completed");
    assert!(
        done.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "finalized")
    );

    // The auditor finds the movement in the ledger, and the entry by its number.
    let entries = api
        .get("/api/v1/ledger/entries?kind=transfer", Some(&audit))
        .await;
    assert_eq!(entries.status, StatusCode::OK, "{}", entries.body);
    let items = entries.body["items"].as_array().unwrap();
    let entry = items
        .iter()
        .find(|e| e["transfer_id"] == id)
        .unwrap_or_else(|| panic!("no ledger entry for transfer {id}: {}", entries.body));
    assert_eq!(entry["start_address"], "20.0.4.0");
    assert_eq!(entry["end_address"], "20.0.7.255");
    assert_eq!(entry["source_rir"], "ARIN");
    assert_eq!(entry["recipient_rir"], "RIPE NCC");
    let seq = entry["seq"].as_i64().unwrap();
    let one = api
        .get(&format!("/api/v1/ledger/entries/{seq}"), Some(&audit))
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["hash"], entry["hash"]);
    // The export the exports page offers, through the API.
    let csv = api
        .get(
            "/api/v1/ledger/export?format=csv&kind=transfer",
            Some(&audit),
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type().starts_with("text/csv"));
    assert!(
        w.holdings_of(w.ripe_org)
            .await
            .contains(&"20.0.4.0/22".to_owned())
    );
}

#[tokio::test]
async fn calls_without_a_good_token_or_the_right_scope_are_refused_and_change_nothing() {
    let w = World::new().await;
    let db = &w.db.conn;
    let api = Api::new(db);
    let body = || Some(filing(&w, "20.0.4.0/22"));

    // No token: 401, a problem document, and how to get one.
    let none = api.post("/api/v1/transfers", None, body()).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.content_type(), "application/problem+json");
    assert_eq!(none.body["status"], 401);
    assert!(none.detail().contains("Authorization: Bearer"));
    assert!(none.headers.contains_key(header::WWW_AUTHENTICATE));
    let made_up = api
        .get("/api/v1/transfers", Some("ipxfer_not-a-real-token"))
        .await;
    assert_eq!(made_up.status, StatusCode::UNAUTHORIZED);

    // Expired and revoked tokens: the same refusal.
    let expired = token(db, "src@example.net", RW).await;
    let row = api_token::Entity::find()
        .all(db)
        .await
        .unwrap()
        .pop()
        .unwrap();
    let mut past: api_token::ActiveModel = row.into();
    past.expires_at = Set(now() - time::Duration::minutes(1));
    past.update(db).await.unwrap();
    let refused = api.post("/api/v1/transfers", Some(&expired), body()).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.detail().contains("unknown, revoked or expired"));
    let revoked = token(db, "src@example.net", RW).await;
    let id = api_token::Entity::find()
        .all(db)
        .await
        .unwrap()
        .pop()
        .unwrap()
        .id;
    assert_eq!(
        api.get("/api/v1/transfers", Some(&revoked)).await.status,
        StatusCode::OK
    );
    api_tokens::revoke(db, &w.source_member, id, now())
        .await
        .unwrap();
    let refused = api.post("/api/v1/transfers", Some(&revoked), body()).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    // A `read` token may read but not file; a hostmaster's token may not file either.
    let read = token(db, "src@example.net", &[Scope::Read]).await;
    assert_eq!(
        api.get("/api/v1/transfers", Some(&read)).await.status,
        StatusCode::OK
    );
    let refused = api.post("/api/v1/transfers", Some(&read), body()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.detail(),
        "This token does not have the transfers:write scope."
    );
    let hostmaster = token(db, "hm1@arin.example", RW).await;
    let refused = api
        .post("/api/v1/transfers", Some(&hostmaster), body())
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(transfers_filed(&w).await, 0, "nothing was filed");

    // Deactivating the owner revokes their tokens: reactivation does not bring them back.
    let owner = token(db, "dst@example.net", RW).await;
    let dst_id = w.recipient_member.user_id.unwrap();
    let at = now();
    ipxfer::services::accounts::set_active(db, dst_id.get(), false, at)
        .await
        .unwrap();
    assert_eq!(
        api.get("/api/v1/transfers", Some(&owner)).await.status,
        StatusCode::UNAUTHORIZED
    );
    ipxfer::services::accounts::set_active(db, dst_id.get(), true, at)
        .await
        .unwrap();
    assert_eq!(
        api.get("/api/v1/transfers", Some(&owner)).await.status,
        StatusCode::UNAUTHORIZED
    );

    // A write-only token may not read.
    let write = token(db, "src@example.net", &[Scope::TransfersWrite]).await;
    assert_eq!(
        api.get("/api/v1/transfers", Some(&write)).await.status,
        StatusCode::FORBIDDEN
    );

    // A signed-in browser's cookie is not an API credential, for reads and writes alike.
    let mut browser = Browser::signed_in(db, "src@example.net").await;
    assert_eq!(
        browser.get("/api/v1/transfers").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        browser.post("/api/v1/transfers", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(transfers_filed(&w).await, 0);
}

#[tokio::test]
async fn the_api_says_what_the_pages_say_when_it_refuses() {
    let w = World::new().await;
    let db = &w.db.conn;
    let api = Api::new(db);
    let src = token(db, "src@example.net", RW).await;
    let dst = token(db, "dst@example.net", RW).await;

    // A transfer nobody may see: the page's words, as a 404 problem.
    let missing = api.get("/api/v1/transfers/999", Some(&src)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.detail(),
        "There is no transfer 999 that you may see."
    );
    let mut browser = Browser::signed_in(db, "src@example.net").await;
    assert!(
        browser
            .get("/transfers/999")
            .await
            .body
            .contains("There is no transfer 999 that you may see.")
    );

    // Bad input: the filing form's messages, field by field.
    let bad = api
        .post(
            "/api/v1/transfers",
            Some(&src),
            Some(json!({
                "recipient_org_id": 999_999,
                "blocks": ["20.0.4.0/22", "198.51.100.0/33"],
                "agreed_price": {"amount": "lots", "currency": "USD"},
            })),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.detail()
            .contains("recipient: Choose the recipient organisation from the list")
    );
    assert!(
        bad.detail()
            .contains("line 2: \"198.51.100.0/33\" is not a valid prefix")
    );
    assert!(bad.detail().contains("Enter the price as a number"));
    let not_json = api
        .send(
            Api::request("POST", "/api/v1/transfers", Some(&src))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(not_json.content_type(), "application/problem+json");

    // A step that is not the caller's: the page's refusal.
    let filed = api
        .post(
            "/api/v1/transfers",
            Some(&src),
            Some(filing(&w, "20.0.4.0/22")),
        )
        .await;
    let id = filed.body["id"].as_i64().unwrap();
    let refused = api
        .post(
            &format!("/api/v1/transfers/{id}/accept"),
            Some(&src),
            Some(json!({})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused
            .detail()
            .starts_with("This step is not yours to take"),
        "{}",
        refused.detail()
    );
    // The recipient's acceptance without the plan RIPE NCC asks for: the policy's words.
    let refused = api
        .post(
            &format!("/api/v1/transfers/{id}/accept"),
            Some(&dst),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.detail().contains("to accept"),
        "{}",
        refused.detail()
    );

    // A method an operation does not take, and an unknown operation, are problem documents too.
    let wrong = api.get("/api/v1/transfers/1/accept", Some(&src)).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.content_type(), "application/problem+json");
    assert_eq!(wrong.headers[header::ALLOW], "POST");
    assert_eq!(wrong.body["status"], 405);
    let nothing = api.get("/api/v1/nothing-here", Some(&src)).await;
    assert_eq!(nothing.status, StatusCode::NOT_FOUND);
    assert_eq!(nothing.content_type(), "application/problem+json");
}

#[tokio::test]
async fn a_retried_post_with_the_same_idempotency_key_files_one_transfer() {
    let w = World::new().await;
    let db = &w.db.conn;
    let api = Api::new(db);
    let src = token(db, "src@example.net", RW).await;
    let first = api
        .post_with_key(
            "/api/v1/transfers",
            Some(&src),
            Some(filing(&w, "20.0.4.0/22")),
            Some("retry-me"),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = api
        .post_with_key(
            "/api/v1/transfers",
            Some(&src),
            Some(filing(&w, "20.0.4.0/22")),
            Some("retry-me"),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body, first.body, "the first answer, again");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(transfers_filed(&w).await, 1);

    // The same key for another request is refused; a new key is a new request.
    let other = api
        .post_with_key(
            "/api/v1/transfers",
            Some(&src),
            Some(filing(&w, "20.0.8.0/22")),
            Some("retry-me"),
        )
        .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(other.detail().contains("different request"));
    assert_eq!(transfers_filed(&w).await, 1);

    // Concurrent retries of one filing: one transfer, every answer the first one's or "still
    // running".
    let key = "concurrent";
    let calls = (0..6).map(|_| {
        api.post_with_key(
            "/api/v1/transfers",
            Some(&src),
            Some(filing(&w, "20.0.12.0/22")),
            Some(key),
        )
    });
    let answers = futures_util::future::join_all(calls).await;
    let created: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .collect();
    assert!(!created.is_empty());
    for a in &answers {
        assert!(
            a.status == StatusCode::CREATED || a.status == StatusCode::CONFLICT,
            "{} {}",
            a.status,
            a.body
        );
        if a.status == StatusCode::CREATED {
            assert_eq!(a.body["id"], created[0].body["id"]);
        }
    }
    assert_eq!(transfers_filed(&w).await, 2, "one transfer per key");

    // A bad key is refused before anything runs.
    let bad = api
        .post_with_key(
            "/api/v1/transfers",
            Some(&src),
            Some(filing(&w, "20.0.16.0/22")),
            Some("has space"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(transfers_filed(&w).await, 2);
}

#[tokio::test]
async fn each_token_has_its_own_rate_limit_with_retry_after() {
    let w = World::new().await;
    let db = &w.db.conn;
    let api = Api::with_state(crate::harness::app_state(db).with_api_rate_limit(2));
    let src = token(db, "src@example.net", RW).await;
    let dst = token(db, "dst@example.net", RW).await;
    for _ in 0..2 {
        assert_eq!(
            api.get("/api/v1/transfers", Some(&src)).await.status,
            StatusCode::OK
        );
    }
    let limited = api.get("/api/v1/transfers", Some(&src)).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.content_type(), "application/problem+json");
    let wait: u64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=31).contains(&wait), "{wait}");
    assert_eq!(
        api.get("/api/v1/transfers", Some(&dst)).await.status,
        StatusCode::OK,
        "another token is not limited"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_operation_without_a_token() {
    let w = World::new().await;
    let api = Api::new(&w.db.conn);
    let doc = api.get("/api/v1/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body["openapi"], "3.1.0");
    let paths = doc.body["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/transfers", "get"),
        ("/api/v1/transfers", "post"),
        ("/api/v1/transfers/{id}", "get"),
        ("/api/v1/transfers/{id}/documents", "post"),
        ("/api/v1/transfers/{id}/accept", "post"),
        ("/api/v1/transfers/{id}/answer", "post"),
        ("/api/v1/transfers/{id}/withdraw", "post"),
        ("/api/v1/queue", "get"),
        ("/api/v1/recipients", "get"),
        ("/api/v1/transfers/{id}/approve", "post"),
        ("/api/v1/transfers/{id}/request-info", "post"),
        ("/api/v1/transfers/{id}/reject", "post"),
        ("/api/v1/transfers/{id}/confirm-fees", "post"),
        ("/api/v1/transfers/{id}/finalize", "post"),
        ("/api/v1/ledger/entries", "get"),
        ("/api/v1/ledger/entries/{seq}", "get"),
        ("/api/v1/ledger/export", "get"),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} is not documented");
        assert!(op["responses"]["401"].is_object(), "{method} {path}");
        if method == "post" {
            let params = op["parameters"].as_array().unwrap();
            let key = params
                .iter()
                .find(|p| p["name"] == "Idempotency-Key")
                .unwrap_or_else(|| panic!("{path} documents its Idempotency-Key"));
            assert_eq!(key["in"], "header", "{path}");
            assert_ne!(key["required"], true, "{path}: the key is optional");
            assert_eq!(key["schema"]["type"], "string", "{path}: {key}");
            assert_eq!(key["schema"]["pattern"], "^[!-~]{1,255}$", "{path}");
        }
    }
    assert_eq!(
        doc.body["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn people_create_name_list_and_revoke_their_tokens_on_the_account_page() {
    let w = World::new().await;
    let db = &w.db.conn;
    let api = Api::new(db);
    let mut src = Browser::signed_in(db, "src@example.net").await;
    let page = src.get("/account/tokens").await;
    page.assert_ok();
    assert!(page.body.contains("You have no tokens yet."));

    // Mistakes are explained, and nothing is created.
    let bad = src
        .post("/account/tokens", &[("name", ""), ("days", "0")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let summary = bad.text(".error-summary");
    assert!(summary.contains("Give the token a name"), "{summary}");
    assert!(summary.contains("Choose at least one scope"), "{summary}");
    assert!(summary.contains("Choose an expiry"), "{summary}");
    assert_eq!(api_token::Entity::find().count(db).await.unwrap(), 0);

    // The secret is shown once, and only its hash is stored.
    let made = src
        .post(
            "/account/tokens",
            &[
                ("name", "billing system"),
                ("scope", "read"),
                ("days", "30"),
            ],
        )
        .await;
    made.assert_ok();
    let secret = made.text("#new-token-value");
    assert!(secret.starts_with("ipxfer_"), "{secret}");
    let row = api_token::Entity::find().one(db).await.unwrap().unwrap();
    assert_ne!(row.token_hash, secret);
    assert!(!row.token_hash.contains(&secret));
    assert_eq!(row.scopes, "read");
    let again = src.get("/account/tokens").await;
    assert!(!again.body.contains(&secret), "shown only once");
    assert!(again.text(".tokens").contains("billing system"));
    assert!(again.text(".tokens").contains("active"));
    assert_eq!(
        api.get("/api/v1/transfers", Some(&secret)).await.status,
        StatusCode::OK
    );

    // Someone else cannot revoke it; its owner can, and then it no longer works.
    let mut dst = Browser::signed_in(db, "dst@example.net").await;
    let theirs = dst
        .post(&format!("/account/tokens/{}/revoke", row.id), &[])
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let revoked = src
        .post(&format!("/account/tokens/{}/revoke", row.id), &[])
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let page = src.get("/account/tokens").await;
    assert!(page.text(".banner").contains("is revoked"));
    assert!(page.text(".tokens").contains("revoked"));
    assert_eq!(
        api.get("/api/v1/transfers", Some(&secret)).await.status,
        StatusCode::UNAUTHORIZED
    );

    // An administrator sees every active token and may revoke any.
    let other = token(db, "dst@example.net", RW).await;
    users::insert(
        db,
        NewUser {
            email: "admin@example.org",
            display_name: "Ada Admin",
            role: "admin",
            organisation_id: None,
            registry: None,
            password_hash: Some(password_hash()),
        },
        now(),
    )
    .await
    .unwrap();
    let mut admin = Browser::signed_in(db, "admin@example.org").await;
    let page = admin.get("/account/tokens").await;
    assert!(page.text("body").contains("dst@example.net"));
    let id = api_token::Entity::find()
        .all(db)
        .await
        .unwrap()
        .pop()
        .unwrap()
        .id;
    let res = admin
        .post(&format!("/account/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        api.get("/api/v1/transfers", Some(&other)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn hostmasters_ask_reject_and_members_answer_and_withdraw_through_the_api() {
    let w = World::new().await;
    let db = &w.db.conn;
    let api = Api::new(db);
    let src = token(db, "src@example.net", RW).await;
    let dst = token(db, "dst@example.net", RW).await;
    let arin = token(db, "hm1@arin.example", RW).await;
    let file = |block: &'static str| {
        let api = &api;
        let src = src.clone();
        let body = filing(&w, block);
        async move {
            let filed = api.post("/api/v1/transfers", Some(&src), Some(body)).await;
            assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.body);
            filed.body["id"].as_i64().unwrap()
        }
    };
    let accept =
        json!({"need_text": "Broadband growth", "horizon_months": 60, "utilisation_percent": 50});

    // ARIN asks the source a question; the source answers; ARIN rejects with a reason.
    let id = file("20.0.4.0/22").await;
    let at = |path: &str| format!("/api/v1/transfers/{id}/{path}");
    api.post(&at("accept"), Some(&dst), Some(accept.clone()))
        .await;
    let empty = api
        .post(
            &at("request-info"),
            Some(&arin),
            Some(json!({"side": "source", "asked": "source", "question": " "})),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.detail(), "Question: Enter your question");
    let asked = api
        .post(
            &at("request-info"),
            Some(&arin),
            Some(json!({"side": "source", "asked": "source", "question": "Who signed the agreement?"})),
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert_eq!(asked.body["state"], "info_requested");
    let answered = api
        .post(
            &at("answer"),
            Some(&src),
            Some(json!({"answer": "Our CFO, under the board's resolution."})),
        )
        .await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
    assert_eq!(answered.body["state"], "source_review");
    let rejected = api
        .post(
            &at("reject"),
            Some(&arin),
            Some(json!({"side": "source", "reason": "The agreement is not signed."})),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.body);
    assert_eq!(rejected.body["state"], "rejected");
    // Finished transfers leave the open list and stay in `show=all`.
    let open = api.get("/api/v1/transfers", Some(&src)).await;
    assert!(open.body["items"].as_array().unwrap().is_empty());
    let all = api.get("/api/v1/transfers?show=all", Some(&src)).await;
    assert_eq!(all.body["items"][0]["id"], id);

    // The source withdraws another one; a second withdrawal is refused with the page's words.
    let id = file("20.0.8.0/22").await;
    let withdrawn = api
        .post(
            &format!("/api/v1/transfers/{id}/withdraw"),
            Some(&src),
            None,
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.body);
    assert_eq!(withdrawn.body["state"], "withdrawn");
    let again = api
        .post(
            &format!("/api/v1/transfers/{id}/withdraw"),
            Some(&src),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(again.detail().starts_with("This step is not yours to take"));

    // Keyset pages: one at a time, newest first.
    let first = api
        .get("/api/v1/transfers?show=all&limit=1", Some(&src))
        .await;
    assert_eq!(first.body["items"][0]["id"], id);
    let before = first.body["next_before"].as_i64().unwrap();
    let second = api
        .get(
            &format!("/api/v1/transfers?show=all&limit=1&before={before}"),
            Some(&src),
        )
        .await;
    assert_eq!(second.body["items"][0]["id"], id - 1);
    assert!(second.body["next_before"].is_null());
    let too_many = api.get("/api/v1/transfers?limit=1000", Some(&src)).await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
}
