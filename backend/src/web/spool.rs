//! Long exports for signed-in auditors (NRO logs, CSV, bundles, delegated snapshots), served so
//! that no client can starve the site (issue 11):
//!
//! - at most [`EXPORT_SLOTS`] run at once; past that the answer is a 503 with `Retry-After`;
//! - they read through their own small pool (`AppState::with_export_db`), never the connections
//!   pages, sign-in and the e-mail worker use;
//! - each is written in full to an anonymous temporary file first (its read transaction ends as
//!   soon as the data is written, at disk speed), then the file is sent: a slow reader holds a
//!   slot and a file, never a database connection.
//!
//! Spooling also means that an export that fails answers with an error status, instead of a body
//! cut short after a 200.

use std::future::Future;
use std::io::{self, Seek, SeekFrom, Write};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::io::AsyncReadExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::services::export::{ExportReport, Sink};

/// Long exports that may run (spool or send) at once.
pub const EXPORT_SLOTS: u32 = 2;

/// Seconds a client turned away is asked to wait.
const RETRY_AFTER_SECONDS: u64 = 30;

/// Bytes read from the spool file per body chunk.
const CHUNK: usize = 64 * 1024;

/// The bound on long exports and the pool they read through.
pub struct Exports {
    slots: Arc<Semaphore>,
    db: Db,
}

impl Exports {
    pub fn new(db: Db, slots: u32) -> Self {
        Exports {
            slots: Arc::new(Semaphore::new(slots as usize)),
            db,
        }
    }

    /// The connections exports read through.
    pub fn db(&self) -> Db {
        self.db.clone()
    }

    /// A slot, or the 503 that asks the client to come back.
    fn slot(&self) -> AppResult<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().map_err(|_| {
            AppError::Busy(
                format!(
                    "{EXPORT_SLOTS} exports are running, as many as the server runs at once. \
                     Please try again in {RETRY_AFTER_SECONDS} seconds."
                ),
                RETRY_AFTER_SECONDS,
            )
        })
    }
}

/// A [`Sink`] into the spool file: what an export writes is staged in memory and written to
/// the file at each drain.
pub struct SpoolSink {
    buf: Vec<u8>,
    file: std::fs::File,
}

impl Write for SpoolSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

impl Sink for SpoolSink {
    async fn drain(&mut self) -> io::Result<()> {
        self.flush()
    }
}

/// Runs `export` into a temporary file within an export slot, then answers with the file as the
/// body (`content_type`, and `filename` as an attachment).
pub async fn spooled_export<F, Fut>(
    exports: &Exports,
    content_type: &'static str,
    filename: Option<String>,
    export: F,
) -> AppResult<Response>
where
    F: FnOnce(SpoolSink, Db) -> Fut,
    Fut: Future<Output = AppResult<(ExportReport, SpoolSink)>>,
{
    let slot = exports.slot()?;
    let internal = |e: io::Error| AppError::Internal(e.into());
    let file = tempfile::tempfile().map_err(internal)?;
    let sink = SpoolSink {
        buf: Vec::new(),
        file,
    };
    let (_, mut sink) = export(sink, exports.db()).await?;
    sink.flush().map_err(internal)?;
    let mut file = sink.file;
    file.seek(SeekFrom::Start(0)).map_err(internal)?;
    let length = file.metadata().map_err(internal)?.len();
    let file = tokio::fs::File::from_std(file);
    // The slot goes with the body: it is released when the last chunk is sent or the client
    // goes away.
    let body = Body::from_stream(futures_util::stream::unfold(
        (file, slot),
        |(mut file, slot)| async move {
            let mut chunk = vec![0; CHUNK];
            match file.read(&mut chunk).await {
                Ok(0) => None,
                Ok(n) => {
                    chunk.truncate(n);
                    Some((Ok::<_, io::Error>(Bytes::from(chunk)), (file, slot)))
                }
                Err(e) => Some((Err(e), (file, slot))),
            }
        },
    ));
    let mut response = (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_LENGTH, length.to_string()),
        ],
        body,
    )
        .into_response();
    if let Some(name) = filename
        && let Ok(value) = format!("attachment; filename=\"{name}\"").parse()
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
