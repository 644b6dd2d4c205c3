//! Transfers through the API: the list (keyset pages, open or all), one transfer with its
//! findings, fees, documents and history, filing (JSON; documents as a separate upload), and
//! every workflow step of the transfer page (accept, answer, withdraw; approve with override
//! reasons, request information, reject, confirm fees, finalize) plus the hostmasters' queue.
//!
//! Each handler checks the token's scope, then does what the page's handler does: the same
//! `transfer_access` reads and authorization, the same input checks and messages, and the same
//! one service call (`services::transfers::act`, `file_with_documents`, `documents::attach`).

//!
//! - `answers`: what is answered (a transfer's summary and detail), read as the page reads it;
//! - `reading`: the list, one transfer, the queue;
//! - `filing`: filing, the possible recipients, document uploads;
//! - `steps`: every workflow step.

mod answers;
mod filing;
mod reading;
mod steps;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::web::AppState;

/// The transfer's id, as the paths' parameters describe it.
const ID: &str = "The transfer's id";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reading::list, filing::file))
        .routes(routes!(reading::show))
        .routes(routes!(filing::upload))
        .routes(routes!(steps::accept))
        .routes(routes!(steps::answer))
        .routes(routes!(steps::withdraw))
        .routes(routes!(steps::approve))
        .routes(routes!(steps::request_info))
        .routes(routes!(steps::reject))
        .routes(routes!(steps::confirm_fees))
        .routes(routes!(steps::finalize))
        .routes(routes!(reading::queue))
        .routes(routes!(filing::recipients))
}
