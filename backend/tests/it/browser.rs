//! A browser for HTTP-level tests: requests go through the real router (sessions, CSRF layer,
//! handlers), the session cookie is kept between requests, and pages are read with CSS
//! selectors.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use ipxfer::clock::SharedClock;
use ipxfer::config::Settings;
use ipxfer::web::{AppState, router};
use scraper::{Html, Selector};
use sea_orm::DatabaseConnection;
use tower::ServiceExt;

/// The password every test user has.
pub const PASSWORD: &str = "correct horse battery staple";

/// The hash of [`PASSWORD`], computed once per test binary.
pub fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| ipxfer::services::accounts::hash_password(PASSWORD).unwrap())
        .clone()
}

/// A response as a test reads it.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    pub fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }

    /// The trimmed text of every element matching `selector`.
    pub fn texts(&self, selector: &str) -> Vec<String> {
        let sel = Selector::parse(selector).unwrap();
        self.html()
            .select(&sel)
            .map(|e| {
                e.text()
                    .collect::<String>()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    /// The text of the one element matching `selector`.
    pub fn text(&self, selector: &str) -> String {
        let t = self.texts(selector);
        assert!(!t.is_empty(), "no {selector} in page:\n{}", self.body);
        t.join(" | ")
    }

    pub fn has(&self, selector: &str) -> bool {
        !self.texts(selector).is_empty()
    }

    /// An attribute of the first element matching `selector`.
    pub fn attr(&self, selector: &str, attr: &str) -> Option<String> {
        let sel = Selector::parse(selector).unwrap();
        self.html()
            .select(&sel)
            .next()
            .and_then(|e| e.value().attr(attr).map(str::to_owned))
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.status, StatusCode::OK, "body:\n{}", self.body);
        self
    }
}

/// The session cookie's name.
const SESSION_COOKIE: &str = "ipxfer_session";

/// One person's browser.
pub struct Browser {
    app: Router,
    /// The cookie jar: name to value.
    cookies: BTreeMap<String, String>,
    csrf: Option<String>,
    /// The last `Set-Cookie` header of the session cookie.
    last_set_cookie: Option<String>,
    /// The address the requests come from (the TCP peer `serve` sees).
    address: Option<SocketAddr>,
}

impl Browser {
    /// A browser on [`crate::harness::app_state`]: its server stands at the tests' fixed date.
    pub fn new(db: &DatabaseConnection) -> Browser {
        Browser::with_state(crate::harness::app_state(db))
    }

    pub fn with_clock(db: &DatabaseConnection, clock: SharedClock) -> Browser {
        Browser::with_state(AppState::new(db.clone(), Settings::default()).with_clock(clock))
    }

    pub fn with_state(state: AppState) -> Browser {
        Browser {
            app: router(state),
            cookies: BTreeMap::new(),
            csrf: None,
            last_set_cookie: None,
            address: None,
        }
    }

    /// The same browser, sending its requests from `address`.
    pub fn at_address(mut self, address: &str) -> Browser {
        self.address = Some(address.parse().expect("an address like 192.0.2.1:5000"));
        self
    }

    async fn send(&mut self, req: Request<Body>) -> Page {
        let res = self.app.clone().oneshot(req).await.unwrap();
        for c in res.headers().get_all(header::SET_COOKIE) {
            let c = c.to_str().unwrap();
            let (name, value) = c.split(';').next().unwrap().split_once('=').unwrap();
            if name == SESSION_COOKIE {
                self.last_set_cookie = Some(c.to_owned());
            }
            // An expired cookie (sign out) is removed.
            if c.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let page = Page {
            status,
            location,
            body: String::from_utf8(body.to_vec()).unwrap(),
        };
        if let Some(t) = page.attr("input[name=csrf_token]", "value") {
            self.csrf = Some(t);
        }
        page
    }

    fn request(&self, method: &str, uri: &str) -> axum::http::request::Builder {
        let mut b = Request::builder().method(method).uri(uri);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            b = b.header(header::COOKIE, jar.join("; "));
        }
        if let Some(a) = self.address {
            b = b.extension(ConnectInfo(a));
        }
        b
    }

    pub async fn get(&mut self, uri: &str) -> Page {
        let req = self.request("GET", uri).body(Body::empty()).unwrap();
        self.send(req).await
    }

    /// Posts a form with the session's CSRF token (fetched from the sign-in page if no page
    /// showed one yet), as the browser would.
    pub async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf_token().await;
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", &token)];
        all.extend_from_slice(fields);
        self.post_raw(uri, &all).await
    }

    /// The session's CSRF token, fetched from a page with a form for anyone (signed in or not)
    /// if no page showed one yet.
    async fn csrf_token(&mut self) -> String {
        if self.csrf.is_none() {
            self.get("/password-reset").await;
        }
        self.csrf.clone().unwrap_or_default()
    }

    /// A POST of exactly these fields, URL-encoded.
    fn form_request(&self, uri: &str, fields: &[(&str, &str)]) -> Request<Body> {
        self.request("POST", uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(serde_html_form::to_string(fields).unwrap()))
            .unwrap()
    }

    /// Posts a form with the CSRF token as [`Browser::post`] does, but goes away as soon as the
    /// request has started: its future is polled once and dropped, as hyper drops a request
    /// whose client closed the connection.
    pub async fn post_and_leave(&mut self, uri: &str, fields: &[(&str, &str)]) {
        let token = self.csrf_token().await;
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", &token)];
        all.extend_from_slice(fields);
        let req = self.form_request(uri, &all);
        let answered = futures_util::FutureExt::now_or_never(self.app.clone().oneshot(req));
        assert!(
            answered.is_none(),
            "the request ended before its first wait"
        );
    }

    /// Posts exactly these fields (no token added).
    pub async fn post_raw(&mut self, uri: &str, fields: &[(&str, &str)]) -> Page {
        let req = self.form_request(uri, fields);
        self.send(req).await
    }

    /// Posts a multipart form (uploads) with the CSRF token.
    pub async fn post_multipart(
        &mut self,
        uri: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> Page {
        let token = self.csrf_token().await;
        let boundary = "ipxfer-test-boundary";
        let mut body = Vec::new();
        for (name, value) in [("csrf_token", token.as_str())].iter().chain(fields) {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        for (name, filename, content_type, bytes) in files {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n")
                    .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let req = self
            .request("POST", uri)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// The session cookie sent with requests (`name=value`).
    pub fn cookie_value(&self) -> Option<String> {
        self.cookies
            .get(SESSION_COOKIE)
            .map(|v| format!("{SESSION_COOKIE}={v}"))
    }

    /// Whether the jar holds a cookie of this name.
    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }

    /// Uses another session cookie (`name=value`) from now on.
    pub fn set_cookie(&mut self, cookie: String) {
        let (name, value) = cookie.split_once('=').unwrap();
        self.cookies.insert(name.to_owned(), value.to_owned());
    }

    /// The whole last `Set-Cookie` header, attributes included.
    pub fn last_set_cookie(&self) -> Option<String> {
        self.last_set_cookie.clone()
    }

    /// A POST as a browser sends it from another site's page.
    pub async fn post_cross_site(&mut self, uri: &str) -> Page {
        let req = self
            .request("POST", uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "cross-site")
            .header(header::ORIGIN, "https://evil.example")
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    /// Signs in with [`PASSWORD`]; panics unless it works.
    pub async fn sign_in(&mut self, email: &str) {
        self.sign_in_with(email, PASSWORD).await;
    }

    /// Signs in with another password (the demo's and the scale data set's); panics unless it
    /// works.
    pub async fn sign_in_with(&mut self, email: &str, password: &str) {
        let page = self
            .post("/login", &[("email", email), ("password", password)])
            .await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "sign-in of {email} failed: {}",
            page.body
        );
        // Signing in issues a new CSRF token; the next page shows it.
        self.csrf = None;
    }

    /// A browser already signed in as `email`.
    pub async fn signed_in(db: &DatabaseConnection, email: &str) -> Browser {
        let mut b = Browser::new(db);
        b.sign_in(email).await;
        b
    }
}
