//! `ipxfer witness serve`: a witness (C2SP tlog-witness) that a registry runs on its own machine
//! with its own key. It cosigns a log's checkpoint only when a consistency proof ties it to the
//! last checkpoint it cosigned for that log, and it records the new tree (in its state file,
//! written and synced before it answers) so it never forgets the largest tree it saw.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::domain::tlog::{self, AddCheckpoint, LogVerifier, WitnessSigner, WitnessedTree};

/// What a witness remembers per log: the last tree it cosigned.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct WitnessState {
    /// origin -> (size, base64 root).
    logs: BTreeMap<String, (u64, String)>,
}

/// A running witness.
pub struct Witness {
    signer: WitnessSigner,
    logs: Vec<LogVerifier>,
    state_file: PathBuf,
    state: Mutex<WitnessState>,
    clock: crate::clock::SharedClock,
}

impl Witness {
    /// A witness with its key, the logs it witnesses and its state file (created when missing).
    pub fn open(
        signer: WitnessSigner,
        logs: Vec<LogVerifier>,
        state_file: &Path,
        clock: crate::clock::SharedClock,
    ) -> anyhow::Result<Arc<Self>> {
        let state = match std::fs::read_to_string(state_file) {
            Ok(text) => serde_json::from_str(&text)
                .with_context(|| format!("{} is not a witness state file", state_file.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => WitnessState::default(),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", state_file.display()));
            }
        };
        Ok(Arc::new(Witness {
            signer,
            logs,
            state_file: state_file.to_owned(),
            state: Mutex::new(state),
            clock,
        }))
    }

    pub fn vkey(&self) -> &str {
        self.signer.vkey()
    }

    /// Decides on one request; on success records the tree, then returns the cosignature line.
    pub async fn add_checkpoint(&self, body: &str) -> Result<String, tlog::Refusal> {
        let req = AddCheckpoint::parse(body).map_err(tlog::Refusal::Malformed)?;
        let origin = req.checkpoint.lines().next().unwrap_or_default().to_owned();
        let log = self
            .logs
            .iter()
            .find(|l| l.origin() == origin)
            .ok_or_else(|| tlog::Refusal::UnknownLog(origin.clone()))?;
        // One request at a time: the check and the record of the new tree go together.
        let mut state = self.state.lock().await;
        let latest = match state.logs.get(&origin) {
            Some((size, root)) => Some(WitnessedTree {
                size: *size,
                root: tlog::parse_b64(root).map_err(tlog::Refusal::Malformed)?,
            }),
            None => None,
        };
        let (tree, text) = tlog::witness_decide(&req, log, latest)?;
        let mut next = state.clone();
        next.logs.insert(origin, (tree.size, tlog::b64(&tree.root)));
        save(&self.state_file, &next).map_err(|e| {
            tracing::error!("cannot record the witnessed tree: {e:#}");
            tlog::Refusal::Unavailable("the witness cannot record the tree; try again".to_owned())
        })?;
        *state = next;
        let now = self.clock.now().unix_timestamp().max(0) as u64;
        Ok(self.signer.cosign(text.as_bytes(), now))
    }
}

/// Writes the state beside the file and renames it over, so a crash leaves the old or the new.
fn save(path: &Path, state: &WitnessState) -> anyhow::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(serde_json::to_string_pretty(state)?.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// The witness's routes: `POST /add-checkpoint`.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .with_state(witness)
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: String) -> Response {
    match w.add_checkpoint(&body).await {
        Ok(line) => (StatusCode::OK, line).into_response(),
        Err(tlog::Refusal::Conflict(size)) => (
            StatusCode::CONFLICT,
            [(header::CONTENT_TYPE, "text/x.tlog.size")],
            format!("{size}\n"),
        )
            .into_response(),
        Err(r) => (
            StatusCode::from_u16(r.status()).unwrap_or(StatusCode::BAD_REQUEST),
            format!("{r}\n"),
        )
            .into_response(),
    }
}

/// Serves a witness on `listener` until `shutdown` resolves.
pub async fn serve(
    witness: Arc<Witness>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    tracing::info!(
        "witness {} listening on http://{}",
        witness.vkey(),
        listener.local_addr()?
    );
    axum::serve(listener, router(witness))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
