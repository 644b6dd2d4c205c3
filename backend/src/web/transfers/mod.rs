//! Transfer pages: the list and the hostmaster queue, the filing form, the transfer page with
//! its timeline, findings, fees, documents and the viewer's actions, the workflow steps and the
//! documents. Handlers parse and validate the form, call one service, and redirect or re-render
//! with the errors.
//!
//! - `list`: the list of transfers and the hostmaster queue;
//! - `filing`: the filing form and the checks the API shares (blocks, price, uploads);
//! - `show`: the transfer page, and the labels the API shares;
//! - `steps`: how a step is applied, and the review steps (accept, answer, approve, ask);
//! - `confirm`: the steps asked twice (withdraw, reject, finalize) and the other buttons;
//! - `documents`: uploading and downloading a transfer's documents.

mod confirm;
mod documents;
mod filing;
mod list;
mod show;
mod steps;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use super::AppState;
use crate::services::documents as documents_service;

pub(crate) use filing::{agreed_price, check_upload, listed};
pub(crate) use show::event_label;

/// Uploads: two documents of at most 10 MiB each, plus the form.
pub(crate) const UPLOAD_LIMIT: usize = 2 * documents_service::MAX_BYTES + 256 * 1024;
pub(crate) const TEXT_MAX: usize = 4000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/transfers", get(list::list))
        .route(
            "/transfers/new",
            get(filing::new_form)
                .post(filing::create)
                .layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/transfers/{id}", get(show::show))
        .route("/transfers/{id}/accept", post(steps::accept))
        .route("/transfers/{id}/answer", post(steps::answer))
        .route(
            "/transfers/{id}/withdraw",
            get(confirm::confirm_withdraw).post(confirm::withdraw),
        )
        .route("/transfers/{id}/approve", post(steps::approve))
        .route(
            "/transfers/{id}/reject",
            get(confirm::confirm_reject).post(confirm::reject),
        )
        .route("/transfers/{id}/request-info", post(steps::request_info))
        .route("/transfers/{id}/confirm-fees", post(confirm::confirm_fees))
        .route("/transfers/{id}/exception", post(confirm::record_exception))
        .route(
            "/transfers/{id}/finalize",
            get(confirm::confirm_finalize).post(confirm::finalize),
        )
        .route("/transfers/{id}/dispute", post(confirm::dispute))
        .route(
            "/transfers/{id}/resolve-dispute",
            post(confirm::resolve_dispute),
        )
        .route(
            "/transfers/{id}/documents",
            post(documents::upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/transfers/{id}/documents/{doc}", get(documents::download))
        .route("/queue", get(list::queue))
}
