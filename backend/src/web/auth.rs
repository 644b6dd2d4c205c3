//! Who is asking: the session's user as an [`Actor`], the extractors that give it to handlers,
//! and the CSRF token every state-changing form carries.
//!
//! A signed-in person's token lives in their session. Someone not signed in (the sign-in,
//! password-reset and invitation forms) has no session, and gets none from merely looking at a
//! form, so crawlers and scanners do not fill the sessions table: their token is a random value
//! in a cookie of its own, `ipxfer_form`, that the form repeats (double submit). It is not signed:
//! with no session to bind it to, a signature would add nothing, since anyone can get a validly
//! signed pair from our own page; what keeps another site from planting its own pair is that
//! the cookie is HttpOnly, SameSite=Strict and, over https, `__Host-` prefixed (no subdomain may
//! set it), and that `CsrfLayer` refuses cross-site posts by Fetch Metadata or Origin first.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use tower_sessions::Session;

use super::AppState;
use super::page::{Chrome, nav_for};
use super::session_store::{LOADED_USER_KEY, LoadedUser, USER_KEY};
use crate::db::entities::user;
use crate::domain::authz::{self, Action, Actor, Role};
use crate::error::AppError;
use crate::services::accounts::actor_of;

const CSRF_KEY: &str = "csrf_token";
const FLASH_KEY: &str = "flash";
const SEEN_KEY: &str = "seen_at";
/// A signed-in session's idle clock restarts at most this often (seconds). A page view that
/// changes nothing in the session does not write it, so without this the idle expiry would count
/// from the last change rather than the last visit; with it, a session costs one write per
/// quarter hour of use instead of one per page.
const KEEP_ALIVE_EVERY: i64 = 15 * 60;
/// The name of the hidden field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
/// Form bodies larger than this are refused (uploads have their own limit).
const FORM_LIMIT: usize = 256 * 1024;

/// The form-token cookie's name: `__Host-` over https, which only this exact host may set.
fn form_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-ipxfer_form"
    } else {
        "ipxfer_form"
    }
}

/// The CSRF token of someone not signed in: the `ipxfer_form` cookie the browser sent, or a fresh
/// one that [`form_token_cookie`] sets if a page put it in a form.
#[derive(Debug, Clone)]
pub struct FormToken {
    value: String,
    /// Whether the browser sent it (only then may a form be checked against it).
    sent: bool,
    /// Set when a page puts the token in a form.
    used: Arc<AtomicBool>,
}

impl FormToken {
    fn value_for_form(&self) -> String {
        self.used.store(true, Ordering::Relaxed);
        self.value.clone()
    }
}

/// Middleware: gives every request a [`FormToken`], and sets the cookie when a page used a new
/// one. The token is 256 random bits, as the session's.
pub async fn form_token_cookie(
    State(secure): State<bool>,
    mut req: Request,
    next: Next,
) -> Response {
    let name = form_cookie_name(secure);
    let sent = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, v)| *n == name && v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|(_, v)| v.to_owned());
    let token = FormToken {
        sent: sent.is_some(),
        value: sent.unwrap_or_else(new_token),
        used: Arc::new(AtomicBool::new(false)),
    };
    req.extensions_mut().insert(token.clone());
    let mut res = next.run(req).await;
    if !token.sent && token.used.load(Ordering::Relaxed) {
        let cookie = format!(
            "{name}={}; Path=/; HttpOnly; SameSite=Strict{}",
            token.value,
            if secure { "; Secure" } else { "" }
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// 256 bits from the OS CSPRNG as 64 hex digits (tower-sessions' ids are 128 random bits).
fn new_token() -> String {
    let id = || tower_sessions::session::Id::default().0 as u128;
    format!("{:032x}{:032x}", id(), id())
}

/// The person behind a request, signed in or not.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: Option<user::Model>,
    pub actor: Actor,
    pub session: Session,
    /// The request's path, for the navigation.
    pub path: String,
    /// The token of forms sent by someone not signed in.
    form_token: Option<FormToken>,
    /// Where the request comes from (the throttle of failed sign-ins counts per address).
    pub client: Option<IpAddr>,
    /// The member's organisation's name, when it was read with the session (the layout's label).
    organisation_name: Option<String>,
    /// The kept pages' keys when they were read with the session and the request reads only
    /// (GET, HEAD): a request that writes reads them again after its write (`web::cache`).
    pub(crate) freshness: Option<crate::db::freshness::Freshness>,
}

fn session_error(e: tower_sessions::session::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("session store: {e}"))
}

impl Viewer {
    /// The user, or a refusal that sends the browser to sign in.
    pub fn user(&self) -> Result<&user::Model, AppError> {
        self.user
            .as_ref()
            .ok_or_else(|| AppError::Forbidden("Sign in first.".into()))
    }

    /// Refuses unless the actor may do `action` (an action not tied to one transfer).
    pub fn require(&self, action: Action) -> Result<(), AppError> {
        if authz::can(&self.actor, action, None) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "Your role does not allow this page.".into(),
            ))
        }
    }

    /// The session's CSRF token, created on first use (signed-in viewers).
    async fn session_csrf_token(&self) -> Result<String, AppError> {
        if let Some(t) = self
            .session
            .get::<String>(CSRF_KEY)
            .await
            .map_err(session_error)?
        {
            return Ok(t);
        }
        // Two 128-bit ids from the OS CSPRNG, as tower-sessions makes its own ids.
        let token = format!(
            "{}{}",
            tower_sessions::session::Id::default(),
            tower_sessions::session::Id::default()
        );
        self.session
            .insert(CSRF_KEY, &token)
            .await
            .map_err(session_error)?;
        Ok(token)
    }

    /// The token for this viewer's forms: the session's when signed in, the form cookie's
    /// otherwise (which stores nothing on the server).
    pub async fn csrf_token(&self) -> Result<String, AppError> {
        if self.user.is_some() {
            return self.session_csrf_token().await;
        }
        self.form_token
            .as_ref()
            .map(FormToken::value_for_form)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no form token layer")))
    }

    /// Checks a submitted CSRF token: against the session's when signed in, against the form
    /// cookie the browser sent otherwise.
    pub async fn check_csrf(&self, submitted: Option<&str>) -> Result<(), AppError> {
        let expected = if self.user.is_some() {
            self.session
                .get::<String>(CSRF_KEY)
                .await
                .map_err(session_error)?
        } else {
            self.form_token
                .as_ref()
                .filter(|t| t.sent)
                .map(|t| t.value.clone())
        };
        match (expected, submitted) {
            (Some(e), Some(s)) if constant_time_eq(e.as_bytes(), s.as_bytes()) => Ok(()),
            _ => Err(AppError::Forbidden(
                "This form has expired or did not come from ipxfer. Go back, reload the page and send it again.".into(),
            )),
        }
    }

    /// A message for the next page this person sees.
    pub async fn flash(&self, message: impl Into<String>) -> Result<(), AppError> {
        self.session
            .insert(FLASH_KEY, message.into())
            .await
            .map_err(session_error)
    }

    /// The layout's data for a page whose forms an anonymous visitor may send (sign-in, password
    /// reset): the token comes from the form cookie, set now if need be; no session is stored.
    pub async fn chrome_for_form(&self, app: &AppState) -> Result<Chrome, AppError> {
        let mut chrome = self.chrome(app).await?;
        if chrome.csrf_token.is_empty() {
            chrome.csrf_token = self.csrf_token().await?;
        }
        Ok(chrome)
    }

    /// The layout's data; takes the one-time message. An anonymous visitor gets no session (and
    /// so no token) from a page without forms, so crawlers do not fill the sessions table.
    pub async fn chrome(&self, app: &AppState) -> Result<Chrome, AppError> {
        // Reading first: removing marks the session changed, and a changed session is written.
        let flash = match self
            .session
            .get::<String>(FLASH_KEY)
            .await
            .map_err(session_error)?
        {
            Some(_) => self
                .session
                .remove::<String>(FLASH_KEY)
                .await
                .map_err(session_error)?,
            None => None,
        };
        let role_label = match self.actor.role {
            Role::Member { org_id } => {
                let name = match &self.organisation_name {
                    Some(name) => Some(name.clone()),
                    None => crate::db::organisations::by_id(&app.db, org_id.get())
                        .await?
                        .map(|o| o.name),
                };
                format!(
                    "member of {}",
                    name.unwrap_or_else(|| format!("organisation {org_id}"))
                )
            }
            Role::Hostmaster { registry } => format!("{registry} hostmaster"),
            Role::Auditor => "auditor".into(),
            Role::Admin => "administrator".into(),
            Role::Anonymous => String::new(),
        };
        Ok(Chrome {
            user_name: self.user.as_ref().map(|u| u.display_name.clone()),
            role_label,
            nav: nav_for(&self.actor.role, &self.path),
            csrf_token: if self.user.is_some() {
                self.session_csrf_token().await?
            } else {
                String::new()
            },
            flash,
        })
    }

    /// Signs a user in: a new session id (no fixation), then the user and a fresh CSRF token.
    pub async fn sign_in(&self, u: &user::Model) -> Result<(), AppError> {
        self.session.cycle_id().await.map_err(session_error)?;
        self.session
            .insert(USER_KEY, u.id)
            .await
            .map_err(session_error)?;
        self.session
            .remove::<String>(CSRF_KEY)
            .await
            .map_err(session_error)?;
        Ok(())
    }

    /// Ends the session everywhere: the record is deleted from the store.
    pub async fn sign_out(&self) -> Result<(), AppError> {
        self.session.flush().await.map_err(session_error)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, AppError> {
        let session = Session::from_request_parts(parts, app)
            .await
            .map_err(|(_, m)| AppError::Internal(anyhow::anyhow!("no session layer: {m}")))?;
        let user_id = session.get::<i64>(USER_KEY).await.map_err(session_error)?;
        // The user the store read with the session, if it is still the session's user (signing
        // in as someone else within a request changes the id, not what was loaded).
        let loaded = session
            .get::<LoadedUser>(LOADED_USER_KEY)
            .await
            .map_err(session_error)?
            .filter(|l| Some(l.user.id) == user_id);
        let reads_only = parts.method == Method::GET || parts.method == Method::HEAD;
        let (user, organisation_name, freshness) = match (loaded, user_id) {
            (Some(l), _) => (
                Some(l.user),
                l.organisation_name,
                reads_only.then_some(l.freshness),
            ),
            (None, Some(id)) => (crate::db::users::by_id(&app.db, id).await?, None, None),
            (None, None) => (None, None, None),
        };
        let user = user.filter(|u| u.active);
        let actor = user.as_ref().map_or(Actor::anonymous(), actor_of);
        if user.is_some() {
            keep_alive(&session, app.clock.now().unix_timestamp()).await?;
        }
        Ok(Viewer {
            user,
            actor,
            session,
            path: parts.uri.path().to_owned(),
            form_token: parts.extensions.get::<FormToken>().cloned(),
            client: client_address(parts, app.settings.client_ip_header.as_deref()),
            organisation_name,
            freshness,
        })
    }
}

/// The client's address: the TCP peer, or behind a reverse proxy the last address of the header
/// the operator named (`--client-ip-header`), which that proxy sets; clients can prepend to it
/// but not change its last entry.
fn client_address(parts: &Parts, header_name: Option<&str>) -> Option<IpAddr> {
    if let Some(name) = header_name {
        let from_proxy = parts
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        if from_proxy.is_some() {
            return from_proxy;
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
}

/// Marks the session seen (which saves it and extends its expiry) when it was last marked more
/// than [`KEEP_ALIVE_EVERY`] ago.
async fn keep_alive(session: &Session, now: i64) -> Result<(), AppError> {
    let seen = session.get::<i64>(SEEN_KEY).await.map_err(session_error)?;
    if seen.is_none_or(|t| now - t >= KEEP_ALIVE_EVERY) {
        session.insert(SEEN_KEY, now).await.map_err(session_error)?;
    }
    Ok(())
}

/// A signed-in viewer; anyone else is sent to the sign-in page and brought back afterwards.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Viewer);

/// Why a request needs a signed-in viewer and did not have one.
pub enum SignInRejection {
    Redirect(Redirect),
    Error(AppError),
}

impl IntoResponse for SignInRejection {
    fn into_response(self) -> Response {
        match self {
            SignInRejection::Redirect(r) => r.into_response(),
            SignInRejection::Error(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = SignInRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, SignInRejection> {
        let viewer = Viewer::from_request_parts(parts, app)
            .await
            .map_err(SignInRejection::Error)?;
        if viewer.actor.user_id.is_none() {
            let next = parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned();
            let to = format!("/login?next={}", urlencode(&next));
            return Err(SignInRejection::Redirect(Redirect::to(&to)));
        }
        Ok(SignedIn(viewer))
    }
}

/// Percent-encodes a path for a query parameter.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A path on this site to return to after signing in; anything else becomes `/`.
///
/// `next` is resolved against the public base URL the way a browser resolves a link (WHATWG URL
/// parsing, which drops tabs and newlines and reads `\\` as `/`, so `/\t/evil.example` is
/// `//evil.example`), and kept only when the result has the base URL's origin. Control
/// characters and backslashes refuse it outright, and so does a resolved path starting with `//`,
/// which a browser would read as another host once it is sent back as a relative redirect.
pub fn safe_next(next: Option<&str>, base_url: &str) -> String {
    let home = || "/".to_owned();
    let Some(next) = next else { return home() };
    if next.chars().any(char::is_control) || next.contains('\\') {
        return home();
    }
    let Ok(base) = url::Url::parse(base_url) else {
        return home();
    };
    match base.join(next) {
        Ok(to) if to.origin() == base.origin() && !to.path().starts_with("//") => {
            match to.query() {
                Some(q) => format!("{}?{q}", to.path()),
                None => to.path().to_owned(),
            }
        }
        _ => home(),
    }
}

/// A url-encoded form whose CSRF token was checked against the session before `T` is read.
/// `T` ignores the token field; its fields are strings so that bad input reaches the page's
/// own validation, which says what is wrong next to the field.
pub struct CsrfForm<T> {
    pub viewer: Viewer,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, app: &AppState) -> Result<Self, AppError> {
        let (mut parts, body) = req.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, app).await?;
        let bytes = axum::body::to_bytes(body, FORM_LIMIT)
            .await
            .map_err(|_| AppError::invalid("The form is too large."))?;
        let pairs: Vec<(String, String)> = serde_html_form::from_bytes(&bytes)
            .map_err(|_| AppError::invalid("The form could not be read."))?;
        let token = pairs
            .iter()
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.as_str());
        viewer.check_csrf(token).await?;
        let form = serde_html_form::from_bytes(&bytes)
            .map_err(|e| AppError::invalid(format!("The form could not be read: {e}")))?;
        Ok(CsrfForm { viewer, form })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_site_paths_are_followed_after_sign_in() {
        let next = |n| safe_next(n, "https://ipxfer.example");
        assert_eq!(next(Some("/transfers/3")), "/transfers/3");
        assert_eq!(next(Some("https://ipxfer.example/queue?x=1")), "/queue?x=1");
        assert_eq!(next(Some("//evil.example/")), "/");
        assert_eq!(next(Some("https://evil.example/")), "/");
        assert_eq!(next(Some("http://ipxfer.example/")), "/");
        assert_eq!(next(Some("/\\evil.example")), "/");
        assert_eq!(next(Some("/\t/evil.example")), "/");
        assert_eq!(next(Some("/.//evil.example")), "/");
        assert_eq!(next(Some("/a\nb")), "/");
        assert_eq!(next(None), "/");
        assert_eq!(safe_next(Some("/x"), "not a url"), "/");
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn paths_are_percent_encoded() {
        assert_eq!(
            urlencode("/transfers?state=open&x=1"),
            "/transfers%3Fstate%3Dopen%26x%3D1"
        );
    }
}
