//! Who is asking: the session's user as an [`Actor`], the extractors that give it to handlers,
//! and the session-bound CSRF token every state-changing form carries.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use sea_orm::EntityTrait;
use serde::de::DeserializeOwned;
use tower_sessions::Session;

use super::AppState;
use super::page::{Chrome, nav_for};
use crate::db::entities::{organisation, user};
use crate::domain::authz::{self, Action, Actor, Role};
use crate::error::AppError;
use crate::services::accounts::actor_of;

const USER_KEY: &str = "user_id";
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

/// The person behind a request, signed in or not.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: Option<user::Model>,
    pub actor: Actor,
    pub session: Session,
    /// The request's path, for the navigation.
    pub path: String,
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

    /// The session's CSRF token, created on first use.
    pub async fn csrf_token(&self) -> Result<String, AppError> {
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

    /// Checks a submitted CSRF token against the session's.
    pub async fn check_csrf(&self, submitted: Option<&str>) -> Result<(), AppError> {
        let expected = self
            .session
            .get::<String>(CSRF_KEY)
            .await
            .map_err(session_error)?;
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
    /// reset): the session and its CSRF token are created now if need be.
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
                let org = organisation::Entity::find_by_id(org_id)
                    .one(&app.db)
                    .await?;
                format!(
                    "member of {}",
                    org.map_or_else(|| format!("organisation {org_id}"), |o| o.name)
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
                self.csrf_token().await?
            } else {
                self.session
                    .get::<String>(CSRF_KEY)
                    .await
                    .map_err(session_error)?
                    .unwrap_or_default()
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
        let user = match user_id {
            Some(id) => user::Entity::find_by_id(id)
                .one(&app.db)
                .await?
                .filter(|u| u.active),
            None => None,
        };
        let actor = user.as_ref().map_or(Actor::anonymous(), actor_of);
        if user.is_some() {
            keep_alive(&session, app.clock.now().unix_timestamp()).await?;
        }
        Ok(Viewer {
            user,
            actor,
            session,
            path: parts.uri.path().to_owned(),
        })
    }
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

/// A same-site path to return to after signing in; anything else (another host, `//evil`)
/// becomes `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
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
        assert_eq!(safe_next(Some("/transfers/3")), "/transfers/3");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
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
