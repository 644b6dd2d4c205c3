//! The one error type of ipxfer. Services return it; the web layer maps it to a response in one
//! place (`web::error_page`) and the CLI prints it. Internal details are logged, never shown.

use sea_orm::DbErr;

/// Everything that can go wrong in a use case.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input (form, file, argument, imported data) is wrong; the message says how to fix it.
    #[error("{0}")]
    Invalid(String),
    /// The thing asked for does not exist (or may not be seen).
    #[error("{0}")]
    NotFound(String),
    /// The request itself is malformed (a query string that does not parse, a body that is not
    /// the form expected): 400.
    #[error("{0}")]
    BadRequest(String),
    /// No valid credentials came with the request (an API call without a good bearer token): 401.
    #[error("{0}")]
    Unauthenticated(String),
    /// The actor may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The state changed under the request (another user acted first, addresses already moved).
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts (failed sign-ins); the message says how long to wait.
    #[error("{0}")]
    Throttled(String),
    /// Too many requests with one API token; try again after this many seconds.
    #[error("{0}")]
    RateLimited(String, u64),
    /// Busy: as many long exports run as the server allows; try again after this many seconds.
    #[error("{0}")]
    Busy(String, u64),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Result of a use case.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// Shorthand for [`AppError::Invalid`].
    pub fn invalid(msg: impl Into<String>) -> Self {
        AppError::Invalid(msg.into())
    }

    /// Shorthand for [`AppError::Conflict`].
    pub fn conflict(msg: impl Into<String>) -> Self {
        AppError::Conflict(msg.into())
    }
}
