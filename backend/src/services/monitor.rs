//! `ipxfer ledger monitor`: follows the log from the outside, with nothing but its public
//! checkpoint and tiles. Each run fetches the newest checkpoint, checks its signature (and the
//! witnesses' quorum), proves from the tiles that it extends the checkpoint saved last time,
//! reads every new entry, recomputes its hash chain and the tree's root, replays the movements,
//! and saves the new checkpoint. A rewritten history fails, naming the first tree size whose
//! root differs from what the monitor saw.
//!
//! The state is a JSON file plus `<state>.leaves`, the leaf hashes seen so far (32 bytes each),
//! which is what lets a failure say exactly where the history diverges.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::domain::export::bundle::{self, BundleKeys};
use crate::domain::ledger::{EntryKind, GENESIS_HASH};
use crate::domain::tlog::{self, Hash, RootBuilder, TILE_WIDTH, Tile, TileRequest};

/// What the monitor remembers between runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    /// The last checkpoint it verified, as served.
    checkpoint: String,
    size: u64,
    /// The hash chain's head: the last entry's hash.
    head_hash: String,
    /// The complete subtrees of the tree of `size` leaves: (height, base64 hash).
    subtrees: Vec<(u32, String)>,
    /// The replay: addresses moved out of and into each registry.
    moved_out: BTreeMap<String, u64>,
    moved_in: BTreeMap<String, u64>,
    /// Entries by kind.
    kinds: BTreeMap<String, u64>,
}

/// What one run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub previous_size: u64,
    pub size: u64,
    pub new_entries: u64,
    pub head_hash: String,
    pub cosigned_by: Vec<String>,
}

impl Report {
    pub fn summary(&self) -> String {
        let witnesses = if self.cosigned_by.is_empty() {
            String::new()
        } else {
            format!(", cosigned by {}", self.cosigned_by.join(", "))
        };
        format!(
            "consistent: tree size {} (was {}), {} new entries checked and replayed, head hash \
             {}{witnesses}",
            self.size, self.previous_size, self.new_entries, self.head_hash
        )
    }
}

/// The log over HTTP.
struct Log {
    base: String,
    http: reqwest::Client,
}

impl Log {
    async fn get(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let url = format!("{}/{path}", self.base);
        let r = self
            .http
            .get(&url)
            .send()
            .await
            .with_context(|| format!("cannot fetch {url}"))?;
        let status = r.status();
        anyhow::ensure!(status.is_success(), "{url} answered {status}");
        Ok(r.bytes().await?.to_vec())
    }

    async fn tile(&self, t: TileRequest) -> anyhow::Result<Vec<u8>> {
        self.get(&format!("tile/{}", t.path())).await
    }
}

/// The tiles fetched so far, for `tlog_tiles::TileHashReader`, which authenticates every tile
/// against the checkpoint's root before using a hash from it. It asks for all the tiles a
/// computation needs at once, so a run fetches what was missing and computes again.
#[derive(Default)]
struct Tiles {
    data: RefCell<HashMap<Tile, Vec<u8>>>,
    missing: RefCell<Vec<Tile>>,
}

impl tlog_tiles::TileReader for Tiles {
    fn height(&self) -> u8 {
        tlog::TILE_HEIGHT
    }

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        let data = self.data.borrow();
        let missing: Vec<Tile> = tiles
            .iter()
            .filter(|t| !data.contains_key(t))
            .copied()
            .collect();
        if !missing.is_empty() {
            self.missing.borrow_mut().extend(missing);
            return Err(tlog_tiles::Error::InvalidTile);
        }
        Ok(tiles.iter().map(|t| data[t].clone()).collect())
    }

    fn save_tiles(&self, _: &[Tile], _: &[Vec<u8>]) {}
}

/// The consistency proof from `old` to the checkpoint (`new`, `root`), read from tiles alone.
async fn consistency_proof(log: &Log, new: u64, root: Hash, old: u64) -> anyhow::Result<Vec<Hash>> {
    let tiles = Tiles::default();
    for _ in 0..4 {
        let reader = tlog_tiles::TileHashReader::new(new, root, &tiles);
        match tlog_tiles::prove_tree(new, old, &reader) {
            Ok(p) => return Ok(p),
            Err(e) => {
                let missing = std::mem::take(&mut *tiles.missing.borrow_mut());
                if missing.is_empty() {
                    bail!("the log's tiles do not match its checkpoint: {e}");
                }
                for t in missing {
                    let req = TileRequest {
                        level: Some(t.level()),
                        index: t.level_index(),
                        width: t.width(),
                    };
                    let data = log.tile(req).await?;
                    tiles.data.borrow_mut().insert(t, data);
                }
            }
        }
    }
    bail!("the log's tiles kept changing")
}

/// Leaf data of leaves `from..to` of the tree of `size` leaves, from its entry bundles.
async fn entries(log: &Log, size: u64, from: u64, to: u64) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut n = from / TILE_WIDTH;
    while n * TILE_WIDTH < to {
        let width = (size - n * TILE_WIDTH).min(TILE_WIDTH) as u32;
        let req = TileRequest {
            level: None,
            index: n,
            width,
        };
        let bundle = tlog::decode_entry_bundle(&log.tile(req).await?)
            .map_err(|e| anyhow::anyhow!("entry bundle {}: {e}", req.path()))?;
        anyhow::ensure!(
            bundle.len() == width as usize,
            "entry bundle {} holds {} entries, not {width}",
            req.path(),
            bundle.len()
        );
        for (i, e) in bundle.into_iter().enumerate() {
            let index = n * TILE_WIDTH + i as u64;
            if (from..to).contains(&index) {
                out.push(e);
            }
        }
        n += 1;
    }
    Ok(out)
}

/// The first leaf where the log now differs from the leaf hashes the monitor saw.
async fn first_divergence(log: &Log, size: u64, seen: &[Hash]) -> anyhow::Result<Option<u64>> {
    let mut n = 0;
    while n * TILE_WIDTH < seen.len() as u64 {
        let width = (size - n * TILE_WIDTH).min(TILE_WIDTH) as u32;
        let req = TileRequest {
            level: Some(0),
            index: n,
            width,
        };
        let hashes = tlog::decode_hash_tile(&log.tile(req).await?).map_err(anyhow::Error::msg)?;
        for (i, h) in hashes.iter().enumerate() {
            let index = n * TILE_WIDTH + i as u64;
            if seen.get(index as usize).is_some_and(|s| s != h) {
                return Ok(Some(index));
            }
        }
        n += 1;
    }
    Ok(None)
}

fn leaves_path(state: &Path) -> PathBuf {
    let mut p = state.as_os_str().to_owned();
    p.push(".leaves");
    PathBuf::from(p)
}

fn load(state_path: &Path) -> anyhow::Result<(State, Vec<Hash>)> {
    let state: State = match std::fs::read_to_string(state_path) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not a monitor state file", state_path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => State {
            head_hash: GENESIS_HASH.to_owned(),
            ..State::default()
        },
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", state_path.display())),
    };
    let bytes = match std::fs::read(leaves_path(state_path)) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).context("cannot read the monitor's leaf hashes"),
    };
    // A run that stopped between the two files leaves extra leaves: they were never confirmed.
    let size = state.size as usize;
    anyhow::ensure!(
        bytes.len() >= size * 32,
        "{} lists fewer leaf hashes than its tree size {size}",
        leaves_path(state_path).display()
    );
    let leaves = bytes[..size * 32]
        .chunks(32)
        .map(|c| Hash(c.try_into().expect("32 bytes")))
        .collect();
    Ok((state, leaves))
}

fn save(state_path: &Path, state: &State, leaves: &[Hash]) -> anyhow::Result<()> {
    let write = |path: &Path, bytes: &[u8]| -> anyhow::Result<()> {
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    };
    let bytes: Vec<u8> = leaves.iter().flat_map(|h| h.0).collect();
    write(&leaves_path(state_path), &bytes)?;
    write(state_path, serde_json::to_string_pretty(state)?.as_bytes())
}

/// One run of the monitor against the log at `base_url` (its `/tlog` prefix included or not).
pub async fn run(base_url: &str, keys: &BundleKeys, state_path: &Path) -> anyhow::Result<Report> {
    let base = base_url.trim_end_matches('/');
    let base = if base.ends_with("/tlog") {
        base.to_owned()
    } else {
        format!("{base}/tlog")
    };
    let log = Log {
        base,
        http: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?,
    };
    let (mut state, mut leaves) = load(state_path)?;
    let note = String::from_utf8(log.get("checkpoint").await?)
        .context("the checkpoint is not UTF-8 text")?;
    let c = tlog::verify_checkpoint(&note, &keys.log, &keys.witnesses)?;
    let cosigned_by: Vec<String> = c.cosigned_by.iter().map(|(n, _)| n.clone()).collect();
    anyhow::ensure!(
        cosigned_by.len() >= keys.quorum,
        "the checkpoint is cosigned by {} of the given witnesses, fewer than the quorum of {}",
        cosigned_by.len(),
        keys.quorum
    );
    let old = state.size;
    let old_root = RootBuilder::resume(
        old,
        state
            .subtrees
            .iter()
            .map(|(h, b)| tlog::parse_b64(b).map(|hash| (*h, hash)))
            .collect::<Result<_, _>>()
            .map_err(anyhow::Error::msg)?,
    )
    .context("the monitor state's subtrees do not fit its tree size")?;
    if c.size < old {
        bail!(
            "the log shrank from tree size {old} to {}: its history was rewritten",
            c.size
        );
    }
    if old > 0 {
        let consistent = match consistency_proof(&log, c.size, c.root, old).await {
            Ok(proof) => {
                tlog::check_consistency(&proof, c.size, c.root, old, old_root.root()).is_ok()
            }
            Err(e) => {
                tracing::warn!("no consistency proof: {e:#}");
                false
            }
        };
        if !consistent {
            let at = first_divergence(&log, c.size, &leaves).await.ok().flatten();
            match at {
                Some(i) => bail!(
                    "the log's history was rewritten: tree size {} (ledger entry {}) differs \
                     from what this monitor saw; the checkpoint of size {} is not consistent \
                     with the saved one of size {old}",
                    i + 1,
                    i + 1,
                    c.size
                ),
                None => bail!(
                    "the log's history was rewritten: the checkpoint of size {} is not \
                     consistent with the saved one of size {old}",
                    c.size
                ),
            }
        }
    }
    // Every new entry: its chain hash, its place, and its movement.
    let mut root = old_root;
    let mut head = state.head_hash.clone();
    for (i, leaf) in entries(&log, c.size, old, c.size).await?.iter().enumerate() {
        let index = old + i as u64;
        let e = bundle::entry_from_leaf(leaf, &head)
            .map_err(|m| anyhow::anyhow!("leaf {index}: {m}"))?;
        anyhow::ensure!(
            e.seq as u64 == index + 1,
            "leaf {index} holds ledger entry {}, not {}",
            e.seq,
            index + 1
        );
        let h = tlog::leaf_hash(leaf);
        root.push(h);
        leaves.push(h);
        head = e.hash.clone();
        let m = &e.movement;
        *state.kinds.entry(m.kind.as_str().to_owned()).or_default() += 1;
        if m.kind == EntryKind::Transfer {
            anyhow::ensure!(
                m.source.org_id.is_some() && m.recipient.org_id.is_some(),
                "entry {}: a transfer must name both organisations",
                e.seq
            );
        }
        *state
            .moved_out
            .entry(m.source_rir.nro_name().to_owned())
            .or_default() += m.range.size();
        *state
            .moved_in
            .entry(m.recipient_rir.nro_name().to_owned())
            .or_default() += m.range.size();
    }
    anyhow::ensure!(
        root.root() == c.root,
        "the log's entries do not hash to its checkpoint's root (tree size {})",
        c.size
    );
    state.checkpoint = note;
    state.size = c.size;
    state.head_hash = head.clone();
    state.subtrees = root
        .parts()
        .iter()
        .map(|(h, hash)| (*h, tlog::b64(hash)))
        .collect();
    save(state_path, &state, &leaves)?;
    Ok(Report {
        previous_size: old,
        size: c.size,
        new_entries: c.size - old,
        head_hash: head,
        cosigned_by,
    })
}
