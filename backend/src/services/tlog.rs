//! The ledger's transparency log (`docs/transparency.md`): signing checkpoints as the ledger
//! grows, sending them to the operator's witnesses and keeping their cosignatures, inclusion
//! proofs for the entry pages and bundles, and the tiles served at `/tlog/`.

use std::time::Duration;

use anyhow::Context;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use time::OffsetDateTime;

use crate::db::tlog::{self as store, StoredCheckpoint};
use crate::domain::tlog::{
    self, AddCheckpoint, Hash, LogSigner, LogVerifier, TileRequest, WitnessVerifier,
};
use crate::error::{AppError, AppResult};

/// How long a witness has to answer.
const WITNESS_TIMEOUT: Duration = Duration::from_secs(10);

/// A witness the log sends its checkpoints to.
#[derive(Debug, Clone)]
pub struct WitnessConfig {
    /// Base URL; the log POSTs to `<url>/add-checkpoint`.
    pub url: String,
    pub verifier: WitnessVerifier,
}

impl WitnessConfig {
    /// Parses `URL,VKEY` (the witness's address, a comma, its cosignature verifier key).
    pub fn parse(arg: &str) -> anyhow::Result<Self> {
        let (url, vkey) = arg.rsplit_once(',').with_context(|| {
            format!(
                "--witness {arg:?} must be URL,VKEY (the witness's address and its verifier key)"
            )
        })?;
        let url = url.trim().trim_end_matches('/');
        anyhow::ensure!(
            url.starts_with("http://") || url.starts_with("https://"),
            "--witness {url:?} must start with http:// or https://"
        );
        Ok(WitnessConfig {
            url: url.to_owned(),
            verifier: WitnessVerifier::parse(vkey)?,
        })
    }
}

/// The log's signing key and witnesses, as `serve` runs them.
#[derive(Debug, Clone)]
pub struct LogConfig {
    pub signer: LogSigner,
    pub witnesses: Vec<WitnessConfig>,
    /// At most one new checkpoint this often.
    pub sign_every: Duration,
    http: reqwest::Client,
}

impl LogConfig {
    pub fn new(signer: LogSigner, witnesses: Vec<WitnessConfig>) -> Self {
        LogConfig {
            signer,
            witnesses,
            sign_every: Duration::from_secs(5),
            http: reqwest::Client::builder()
                .timeout(WITNESS_TIMEOUT)
                .build()
                .expect("the HTTP client builds with its defaults"),
        }
    }

    /// Reads the private key file `path` and checks it signs for `origin`.
    pub fn load(
        path: &std::path::Path,
        origin: &str,
        witnesses: Vec<WitnessConfig>,
    ) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the log key {}", path.display()))?;
        let signer = LogSigner::parse(&text).with_context(|| format!("in {}", path.display()))?;
        anyhow::ensure!(
            signer.origin() == origin,
            "the log key {} signs for the origin {:?}, but this log's origin is {origin:?} \
             (--log-origin, or the host of --base-url); make a key for it with \
             `ipxfer log-key generate --log-origin {origin}`",
            path.display(),
            signer.origin()
        );
        Ok(LogConfig::new(signer, witnesses))
    }

    pub fn verifier(&self) -> LogVerifier {
        LogVerifier::parse(self.signer.vkey()).expect("a signer's own vkey parses")
    }

    pub fn witness_verifiers(&self) -> Vec<WitnessVerifier> {
        self.witnesses.iter().map(|w| w.verifier.clone()).collect()
    }
}

/// The origin a log has when `--log-origin` is not given: the base URL without its scheme.
pub fn default_origin(base_url: &str) -> String {
    let rest = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest)
        .trim_end_matches('/');
    rest.to_owned()
}

/// Refuses a key other than the one that signed the latest stored checkpoint: a log has one key
/// for life, and a new key would let whoever holds it sign a different history.
pub async fn check_key(db: &impl ConnectionTrait, log: &LogConfig) -> anyhow::Result<()> {
    if let Some(latest) = store::latest_checkpoint(db).await? {
        anyhow::ensure!(
            latest.vkey == log.signer.vkey(),
            "the log key's verifier key is {}, but the latest checkpoint (tree size {}) was \
             signed by {}: start with the key that signed it",
            log.signer.vkey(),
            latest.size,
            latest.vkey
        );
    }
    Ok(())
}

/// Signs a checkpoint of the tree as it stands if it grew since the latest one (or there is
/// none yet); returns the new checkpoint.
pub async fn sign_if_grown(
    db: &DatabaseConnection,
    log: &LogConfig,
    now: OffsetDateTime,
) -> AppResult<Option<StoredCheckpoint>> {
    let size = store::tree_size(db).await?;
    let latest = store::latest_checkpoint(db).await?;
    if let Some(l) = &latest
        && l.size >= size
    {
        return Ok(None);
    }
    let root = store::root(db, size).await?;
    let note = log
        .signer
        .sign_checkpoint(size, root)
        .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let c = store::insert_checkpoint(
        db,
        log.signer.origin(),
        size,
        root,
        log.signer.vkey(),
        &note,
        now,
    )
    .await?;
    tracing::info!(size, "signed a checkpoint of the ledger");
    Ok(Some(c))
}

/// What one round of the log's background job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub signed: Option<u64>,
    /// Witnesses that cosigned the latest checkpoint in this round.
    pub cosigned_by: Vec<String>,
}

/// Signs a checkpoint if the ledger grew, then asks every witness that has not cosigned the latest
/// checkpoint yet to do so. A witness that is down is asked again next round.
pub async fn round(
    db: &DatabaseConnection,
    log: &LogConfig,
    now: OffsetDateTime,
) -> AppResult<Round> {
    let signed = sign_if_grown(db, log, now).await?.map(|c| c.size);
    let Some(latest) = store::latest_checkpoint(db).await? else {
        return Ok(Round::default());
    };
    let already = tlog::verify_checkpoint(
        &latest.published(),
        &log.verifier(),
        &log.witness_verifiers(),
    )
    .map(|v| v.cosigned_by)
    .unwrap_or_default();
    let mut cosigned_by = Vec::new();
    for w in &log.witnesses {
        if already.iter().any(|(name, _)| name == w.verifier.name()) {
            continue;
        }
        match submit(db, log, w, &latest).await {
            Ok(line) => {
                store::add_cosignatures(db, latest.id, &[line]).await?;
                cosigned_by.push(w.verifier.name().to_owned());
            }
            Err(e) => tracing::warn!(witness = w.url, "the witness did not cosign: {e:#}"),
        }
    }
    Ok(Round {
        signed,
        cosigned_by,
    })
}

/// Sends the checkpoint to one witness (C2SP tlog-witness `add-checkpoint`) and returns its
/// verified cosignature line. When the witness says it has cosigned another size (409), the
/// request is made once more from that size.
async fn submit(
    db: &DatabaseConnection,
    log: &LogConfig,
    w: &WitnessConfig,
    c: &StoredCheckpoint,
) -> anyhow::Result<String> {
    let mut old = store::witness_size(db, w.verifier.vkey()).await?;
    for _ in 0..2 {
        anyhow::ensure!(
            old <= c.size,
            "the witness has cosigned tree size {old}, larger than this log's {}",
            c.size
        );
        let proof = store::compute(db, |h| tlog::consistency_proof(c.size, old, h)).await?;
        let body = AddCheckpoint {
            old_size: old,
            proof,
            checkpoint: c.note.clone(),
        }
        .encode();
        let response = log
            .http
            .post(format!("{}/add-checkpoint", w.url))
            .body(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        match status {
            200 => {
                let lines: Vec<String> = text
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(|l| format!("{l}\n"))
                    .collect();
                let cosigned = tlog::with_signature_lines(&c.note, &lines);
                let v = tlog::verify_checkpoint(
                    &cosigned,
                    &log.verifier(),
                    std::slice::from_ref(&w.verifier),
                )?;
                anyhow::ensure!(
                    !v.cosigned_by.is_empty(),
                    "the witness answered without a valid cosignature by {}",
                    w.verifier.vkey()
                );
                let line = lines
                    .into_iter()
                    .find(|l| {
                        let one = tlog::with_signature_lines(&c.note, std::slice::from_ref(l));
                        tlog::verify_checkpoint(
                            &one,
                            &log.verifier(),
                            std::slice::from_ref(&w.verifier),
                        )
                        .is_ok_and(|v| !v.cosigned_by.is_empty())
                    })
                    .expect("a verified cosignature is one of the lines");
                store::set_witness_size(db, w.verifier.vkey(), c.size).await?;
                return Ok(line);
            }
            409 => {
                old = text.trim().parse().with_context(|| {
                    format!("the witness answered 409 without a tree size: {text:?}")
                })?;
                store::set_witness_size(db, w.verifier.vkey(), old).await?;
            }
            _ => anyhow::bail!("the witness answered {status}: {}", text.trim()),
        }
    }
    anyhow::bail!("the witness's tree size kept changing")
}

/// An entry's inclusion proof against a checkpoint.
#[derive(Debug, Clone)]
pub struct InclusionProof {
    pub checkpoint: StoredCheckpoint,
    /// Leaf index: the entry's `seq` minus one.
    pub index: u64,
    pub leaf_hash: Hash,
    pub proof: Vec<Hash>,
}

impl InclusionProof {
    /// The proof as text: what it proves, the leaf hash, then one base64 hash a line.
    pub fn text(&self) -> String {
        let mut out = format!(
            "leaf index {} (ledger entry {}) in tree size {}\nleaf hash {}\n",
            self.index,
            self.index + 1,
            self.checkpoint.size,
            tlog::b64(&self.leaf_hash)
        );
        for h in &self.proof {
            out.push_str(&tlog::b64(h));
            out.push('\n');
        }
        out
    }
}

/// The inclusion proof of ledger entry `seq` against the latest checkpoint; `None` when there is
/// no checkpoint yet or it predates the entry.
pub async fn inclusion(db: &impl ConnectionTrait, seq: i64) -> AppResult<Option<InclusionProof>> {
    let Some(checkpoint) = store::latest_checkpoint(db).await? else {
        return Ok(None);
    };
    if seq < 1 || seq as u64 > checkpoint.size {
        return Ok(None);
    }
    let index = seq as u64 - 1;
    let size = checkpoint.size;
    let (leaf_hash, proof) = store::compute(db, |h| {
        let leaf = h_at(h, tlog_tiles::stored_hash_index(0, index))?;
        Ok((leaf, tlog::inclusion_proof(size, index, h)?))
    })
    .await?;
    Ok(Some(InclusionProof {
        checkpoint,
        index,
        leaf_hash,
        proof,
    }))
}

/// Inclusion proofs of several leaves in the tree of `size` leaves, loading the hashes they
/// need in one round (the bundle export proves a page of entries at a time).
pub async fn inclusion_proofs(
    db: &impl ConnectionTrait,
    size: u64,
    indexes: &[u64],
) -> AppResult<Vec<Vec<Hash>>> {
    let mut hashes = tlog::Hashes::default();
    let mut missing = Vec::new();
    for &i in indexes {
        if let Err(tlog::TreeError::Missing(m)) = tlog::inclusion_proof(size, i, &hashes) {
            missing.extend(m);
        }
    }
    missing.sort_unstable();
    missing.dedup();
    store::load_hashes(db, &missing, &mut hashes).await?;
    indexes
        .iter()
        .map(|&i| {
            tlog::inclusion_proof(size, i, &hashes)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("inclusion proof of {i}: {e}")))
        })
        .collect()
}

/// A tile of the latest checkpoint's tree, `None` when that tree does not reach it.
pub async fn tile(db: &impl ConnectionTrait, t: TileRequest) -> AppResult<Option<Vec<u8>>> {
    let Some(c) = store::latest_checkpoint(db).await? else {
        return Ok(None);
    };
    if t.needs_tree_size() > c.size {
        return Ok(None);
    }
    if t.level.is_none() {
        let range = t.leaf_range();
        let entries =
            crate::db::ledger::page_after(db, range.start as i64, range.end - range.start).await?;
        let leaves: Vec<Vec<u8>> = entries.iter().map(tlog::leaf_data).collect();
        return Ok(Some(tlog::encode_entry_bundle(
            leaves.iter().map(Vec::as_slice),
        )));
    }
    let indexes = t.hash_indexes();
    let mut hashes = tlog::Hashes::default();
    store::load_hashes(db, &indexes, &mut hashes).await?;
    let mut out = Vec::with_capacity(indexes.len() * 32);
    for i in indexes {
        let h = h_at(&hashes, i)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("tile hash {i}: {e}")))?;
        out.extend_from_slice(&h.0);
    }
    Ok(Some(out))
}

/// The stored hash at `index`.
fn h_at(h: &tlog::Hashes, index: u64) -> Result<Hash, tlog::TreeError> {
    h.run(|r| tlog_tiles::HashReader::read_hashes(r, &[index]).map(|v| v[0]))
}
