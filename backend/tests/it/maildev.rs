//! Delivery over real SMTP to MailDev, read back through its JSON API. Ignored in `cargo test`
//! (no server there); `.ci/run` starts MailDev and runs them with:
//! - `TEST_SMTP_URL` and `TEST_MAILDEV_API`: the MailDev the script started;
//! - `TEST_MAILDEV_BIN`: the `maildev` executable, for the test that stops and restarts its own
//!   server on free ports.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ipxfer::domain::Side;
use ipxfer::mail::{DEFAULT_FROM, Mailer, parse_from};
use ipxfer::services::outbox::{self, DeliveryPolicy};
use ipxfer::services::transfers::Command;
use serde_json::Value;
use time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::now;
use crate::mail::{outbox_rows, run};
use crate::transfers::{World, need};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run this test through .ci/run, which starts MailDev")
    })
}

/// `host:port` of an `http://host:port` URL.
fn authority(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

/// One HTTP/1.0 request (the server then neither keeps the connection nor chunks the body).
async fn http(authority: &str, method: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(authority).await.ok()?;
    let request = format!("{method} {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// Every message MailDev holds.
async fn received(api: &str) -> Vec<Value> {
    let (status, body) = http(api, "GET", "/api/email")
        .await
        .unwrap_or_else(|| panic!("MailDev's API at {api} does not answer"));
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn message_id(m: &Value) -> String {
    m["headers"]["message-id"].as_str().unwrap().to_owned()
}

fn recipient(m: &Value) -> String {
    m["envelope"]["to"][0]["address"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Waits up to 30 s for MailDev's `/api/healthz` to answer `true`.
async fn wait_until_healthy(api: &str) {
    for _ in 0..300 {
        if let Some((200, body)) = http(api, "GET", "/api/healthz").await
            && body.trim() == "true"
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("MailDev is not running, or not healthy, at {api}");
}

/// A MailDev of this test's own, on the ports given, keeping mail in `dir`.
struct MailDev(tokio::process::Child);

impl MailDev {
    async fn start(smtp: u16, web: u16, dir: &Path) -> MailDev {
        let bin = PathBuf::from(env("TEST_MAILDEV_BIN"));
        let child = tokio::process::Command::new(&bin)
            .args(["--ip", "127.0.0.1", "--web-ip", "127.0.0.1"])
            .args(["--smtp", &smtp.to_string(), "--web", &web.to_string()])
            .arg("--mail-directory")
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        wait_until_healthy(&format!("127.0.0.1:{web}")).await;
        MailDev(child)
    }

    async fn stop(mut self) {
        self.0.kill().await.expect("stop MailDev");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn mailer(smtp_url: &str) -> Mailer {
    Mailer::smtp(smtp_url, parse_from(DEFAULT_FROM).unwrap()).unwrap()
}

#[tokio::test]
#[ignore = "needs MailDev: run by .ci/run with TEST_SMTP_URL and TEST_MAILDEV_API"]
async fn one_full_transfer_reaches_exactly_the_expected_addresses_over_smtp() {
    let (smtp_url, api) = (env("TEST_SMTP_URL"), authority(&env("TEST_MAILDEV_API")));
    wait_until_healthy(&api).await;
    let (status, _) = http(&api, "DELETE", "/api/email/all")
        .await
        .expect("MailDev's API answers");
    assert_eq!(status, 200);

    let w = World::new().await;
    let id = w.ready_to_finalize("20.0.4.0/22").await;
    w.act(&w.arin_hostmaster, id, Command::Finalize)
        .await
        .unwrap();
    let done = outbox::drain(
        &w.db.conn,
        &mailer(&smtp_url),
        &DeliveryPolicy::default(),
        now,
    )
    .await
    .unwrap();

    let r = "[ipxfer] TX-2026-000001: ";
    let everyone = [
        "dst@example.net",
        "hm1@arin.example",
        "hm2@arin.example",
        "hm@ripe.example",
        "src@example.net",
    ];
    let mut expected: BTreeSet<(String, String)> = [
        (
            "dst@example.net",
            "ARIN holder arin-holder asks you to accept a transfer",
        ),
        (
            "hm1@arin.example",
            "the recipient accepted: source review needed",
        ),
        (
            "hm2@arin.example",
            "the recipient accepted: source review needed",
        ),
        (
            "hm@ripe.example",
            "source registry approved: recipient review needed",
        ),
        (
            "hm1@arin.example",
            "reviews passed: confirm fees and finalize",
        ),
        (
            "hm2@arin.example",
            "reviews passed: confirm fees and finalize",
        ),
    ]
    .into_iter()
    .map(|(to, s)| (to.to_owned(), format!("{r}{s}")))
    .collect();
    expected.extend(
        everyone
            .iter()
            .map(|to| (to.to_string(), format!("{r}transfer completed"))),
    );
    assert_eq!(done.sent as usize, expected.len());

    let got = received(&api).await;
    assert_eq!(got.len(), expected.len(), "exactly the expected messages");
    let seen: BTreeSet<(String, String)> = got
        .iter()
        .map(|m| (recipient(m), m["subject"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(seen, expected);
    let ids: BTreeSet<String> = got.iter().map(message_id).collect();
    let queued: BTreeSet<String> = outbox_rows(&w)
        .await
        .into_iter()
        .map(|r| r.message_id)
        .collect();
    assert_eq!(ids, queued);
    // Multipart: the HTML alternative arrived with the text.
    assert!(got.iter().all(|m| {
        m["html"]
            .as_str()
            .is_some_and(|h| h.contains("TX-2026-000001"))
    }));
    assert!(got.iter().all(|m| {
        m["text"]
            .as_str()
            .is_some_and(|t| t.contains("Open the transfer: "))
    }));
}

#[tokio::test]
#[ignore = "needs MailDev: run by .ci/run with TEST_MAILDEV_BIN"]
async fn with_the_smtp_server_stopped_and_started_again_every_message_arrives_once() {
    let (smtp, web) = (free_port(), free_port());
    let dir = tempfile::tempdir().unwrap();
    let api = format!("127.0.0.1:{web}");
    let mailer = mailer(&format!("smtp://127.0.0.1:{smtp}"));
    let policy = DeliveryPolicy::default();
    let w = World::new().await;
    let mut t = now();

    // The filing's e-mail goes out while the server runs.
    let server = MailDev::start(smtp, web, dir.path()).await;
    let id = w.file("20.0.4.0/22").await.unwrap();
    w.attach_documents(id).await;
    let first = outbox::drain(&w.db.conn, &mailer, &policy, || t)
        .await
        .unwrap();
    assert_eq!(first.sent, 1);
    server.stop().await;

    // The transfer goes on while the server is down: every attempt fails and backs off.
    let approve = |side| Command::Approve {
        side,
        overrides: vec![],
    };
    let steps = vec![
        (&w.recipient_member, Command::Accept { need: need() }),
        (&w.arin_hostmaster, approve(Side::Source)),
        (&w.ripe_hostmaster, approve(Side::Recipient)),
        (&w.arin_hostmaster, Command::ConfirmFees),
        (&w.arin_hostmaster, Command::Finalize),
    ];
    let mut failed_attempts = 0;
    for step in steps {
        run(&w, id, vec![step]).await;
        t += Duration::minutes(5);
        let round = outbox::drain(&w.db.conn, &mailer, &policy, || t)
            .await
            .unwrap();
        assert_eq!(round.sent, 0, "the server is down");
        assert_eq!(round.failed, 0, "a refused connection is worth retrying");
        failed_attempts += round.deferred;
    }
    assert!(failed_attempts >= 10, "{failed_attempts} attempts failed");

    // Back up: the worker drains the queue as the backoff lets it.
    let server = MailDev::start(smtp, web, dir.path()).await;
    for _ in 0..24 {
        let pending = outbox_rows(&w)
            .await
            .into_iter()
            .filter(|r| r.status != "sent")
            .count();
        if pending == 0 {
            break;
        }
        t += Duration::hours(1);
        outbox::drain(&w.db.conn, &mailer, &policy, || t)
            .await
            .unwrap();
    }
    let rows = outbox_rows(&w).await;
    assert!(
        rows.iter().all(|r| r.status == "sent"),
        "the outbox drained"
    );

    let got = received(&api).await;
    let ids: Vec<String> = got.iter().map(message_id).collect();
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(
        distinct.len(),
        ids.len(),
        "no message arrived twice: {ids:?}"
    );
    let queued: BTreeSet<String> = rows.iter().map(|r| r.message_id.clone()).collect();
    assert_eq!(
        distinct.into_iter().cloned().collect::<BTreeSet<_>>(),
        queued,
        "every queued message arrived"
    );
    assert_eq!(
        ids.len(),
        11,
        "1 filing, 2 + 1 + 2 review steps, 5 completion"
    );
    for r in &rows {
        let m = got.iter().find(|m| message_id(m) == r.message_id).unwrap();
        assert_eq!(recipient(m), r.to_address);
    }
    server.stop().await;
}
