//! The ledger as a transparency log, as pure functions: the Merkle tree over the entries (RFC 6962
//! hashing, the tile layout of C2SP tlog-tiles), signed checkpoints (C2SP tlog-checkpoint on
//! signed-note, Ed25519), cosignatures (C2SP tlog-cosignature), the witness protocol's
//! `add-checkpoint` request and its decision (C2SP tlog-witness), and proof checks.
//!
//! Leaf `i` (from 0) is entry `seq = i + 1`; its data is the entry's canonical bytes
//! ([`ledger::canonical_bytes`]). The formats come from the `tlog_tiles` and `signed_note` crates
//! (Cloudflare's ports of Go's `sumdb/tlog` and `sumdb/note`). Two small parts are written here
//! because those crates lack them: the cosignature/v1 signer and verifier (signed-note algorithm
//! 0x04, with its timestamped message), and the parsing of C2SP tile paths (the crate parses
//! Go's `tile/H/L/N` form and panics on some out-of-range levels and widths).

use std::cell::RefCell;
use std::collections::HashMap;

use base64::prelude::*;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use rand_core::CryptoRngCore;
use signed_note::{Note, Signature, Signer, StandardSigner, StandardVerifier, Verifier};
use tlog_tiles::{stored_hash_index, stored_hashes_for_record_hash};

use super::ledger::{self, LedgerEntry};

pub use tlog_tiles::{Checkpoint, EMPTY_HASH, Hash, HashReader, Tile};

/// Tile height: C2SP tlog-tiles fixes it at 8, so a full tile holds 256 hashes or entries.
pub const TILE_HEIGHT: u8 = 8;
/// Entries or hashes in a full tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// Why a tree computation could not be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("the tree is missing stored hashes {0:?}")]
    Missing(Vec<u64>),
    #[error("{0}")]
    Invalid(String),
}

fn tree_error(e: tlog_tiles::Error) -> TreeError {
    TreeError::Invalid(e.to_string())
}

/// The leaf data of an entry: its canonical bytes, exactly as the hash chain hashes them.
pub fn leaf_data(e: &LedgerEntry) -> Vec<u8> {
    ledger::canonical_bytes(e.seq, &e.movement, e.recorded_at)
}

/// RFC 6962 leaf hash: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    tlog_tiles::record_hash(data)
}

/// Hex, as the ledger pages show hashes.
pub fn hex(h: &Hash) -> String {
    ::hex::encode(h.0)
}

/// Base64, as checkpoints and proofs carry hashes.
pub fn b64(h: &Hash) -> String {
    BASE64_STANDARD.encode(h.0)
}

/// Parses a base64 hash.
pub fn parse_b64(s: &str) -> Result<Hash, String> {
    Hash::parse_hash(s.trim()).map_err(|_| format!("{s:?} is not a base64 SHA-256 hash"))
}

/// Stored hashes by index (the layout of `tlog_tiles::stored_hash_index`), with the indexes a
/// computation asked for and did not find. Computations over the tree make one read each, so a
/// caller runs a computation, loads what was missing, and runs it again.
#[derive(Debug, Default)]
pub struct Hashes {
    known: HashMap<u64, Hash>,
    missing: RefCell<Vec<u64>>,
}

impl Hashes {
    pub fn insert(&mut self, index: u64, hash: Hash) {
        self.known.insert(index, hash);
    }

    /// The indexes asked for and not known since the last call.
    pub fn take_missing(&self) -> Vec<u64> {
        std::mem::take(&mut self.missing.borrow_mut())
    }

    /// Runs `f`; when it needed hashes that are not known, says which.
    pub fn run<T>(
        &self,
        f: impl Fn(&Self) -> Result<T, tlog_tiles::Error>,
    ) -> Result<T, TreeError> {
        self.take_missing();
        match f(self) {
            Ok(v) => Ok(v),
            Err(e) => {
                let missing = self.take_missing();
                if missing.is_empty() {
                    Err(tree_error(e))
                } else {
                    Err(TreeError::Missing(missing))
                }
            }
        }
    }
}

impl HashReader for Hashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        let found: Vec<Hash> = indexes
            .iter()
            .filter_map(|i| self.known.get(i).copied())
            .collect();
        if found.len() == indexes.len() {
            return Ok(found);
        }
        self.missing.borrow_mut().extend(
            indexes
                .iter()
                .filter(|i| !self.known.contains_key(i))
                .copied(),
        );
        Err(tlog_tiles::Error::IndexesNotInTree)
    }
}

/// The stored hashes of the complete subtrees of a tree of `size` leaves: all that appending more
/// leaves reads, so an append of `k` leaves costs `O(k + log size)` hashes, never the whole tree.
pub fn frontier_indexes(size: u64) -> Vec<u64> {
    (0..64u8)
        .filter(|&l| (size >> l) & 1 == 1)
        .map(|l| stored_hash_index(l, (size >> l) - 1))
        .collect()
}

/// Appends leaves to a tree of `size` leaves whose frontier is in `hashes`; returns the stored
/// hashes to write, as `(index, hash)`, in index order.
pub fn append_leaves(
    size: u64,
    hashes: &mut Hashes,
    leaves: impl IntoIterator<Item = Hash>,
) -> Result<Vec<(u64, Hash)>, TreeError> {
    let mut out = Vec::new();
    for (i, leaf) in leaves.into_iter().enumerate() {
        let n = size + i as u64;
        let new = hashes.run(|r| stored_hashes_for_record_hash(n, leaf, r))?;
        let start = stored_hash_index(0, n);
        for (k, h) in new.into_iter().enumerate() {
            hashes.insert(start + k as u64, h);
            out.push((start + k as u64, h));
        }
    }
    Ok(out)
}

/// The root of the tree of `size` leaves.
pub fn tree_hash(size: u64, hashes: &Hashes) -> Result<Hash, TreeError> {
    hashes.run(|r| tlog_tiles::tree_hash(size, r))
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves.
pub fn inclusion_proof(size: u64, index: u64, hashes: &Hashes) -> Result<Vec<Hash>, TreeError> {
    hashes.run(|r| tlog_tiles::prove_record(size, index, r))
}

/// The consistency proof from the tree of `old` leaves to the tree of `new` leaves (empty when
/// `old` is 0 or equals `new`).
pub fn consistency_proof(new: u64, old: u64, hashes: &Hashes) -> Result<Vec<Hash>, TreeError> {
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    hashes.run(|r| tlog_tiles::prove_tree(new, old, r))
}

/// Checks that leaf `index` with hash `leaf` is in the tree of `size` leaves with root `root`.
pub fn check_inclusion(
    proof: &[Hash],
    size: u64,
    root: Hash,
    index: u64,
    leaf: Hash,
) -> Result<(), String> {
    tlog_tiles::check_record(&proof.to_vec(), size, root, index, leaf).map_err(|_| {
        format!("the inclusion proof of leaf {index} does not lead to the root of tree size {size}")
    })
}

/// Checks that the tree (`old`, `old_root`) is a prefix of the tree (`new`, `new_root`).
pub fn check_consistency(
    proof: &[Hash],
    new: u64,
    new_root: Hash,
    old: u64,
    old_root: Hash,
) -> Result<(), String> {
    let ok = match (old, new) {
        (0, _) => proof.is_empty(),
        (o, n) if o == n => proof.is_empty() && old_root == new_root,
        (o, n) if o > n => false,
        _ => tlog_tiles::check_tree(&proof.to_vec(), new, new_root, old, old_root).is_ok(),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "tree size {new} is not consistent with tree size {old}: the history was rewritten"
        ))
    }
}

/// RFC 6962's Merkle tree hash computed leaf by leaf in `O(log n)` memory, independently of the
/// stored hashes: a stack of the complete subtrees so far, merged like a binary counter.
#[derive(Debug, Clone, Default)]
pub struct RootBuilder {
    /// (height, hash) of complete subtrees, left to right, heights strictly decreasing.
    stack: Vec<(u32, Hash)>,
    size: u64,
}

impl RootBuilder {
    pub fn push(&mut self, leaf: Hash) {
        let mut node = (0u32, leaf);
        while let Some(&(height, left)) = self.stack.last() {
            if height != node.0 {
                break;
            }
            self.stack.pop();
            node = (height + 1, tlog_tiles::node_hash(left, node.1));
        }
        self.stack.push(node);
        self.size += 1;
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The complete subtrees as (height, hash), left to right: all a monitor saves.
    pub fn parts(&self) -> &[(u32, Hash)] {
        &self.stack
    }

    /// A builder resumed from saved parts of a tree of `size` leaves; `None` if they do not fit.
    pub fn resume(size: u64, parts: Vec<(u32, Hash)>) -> Option<Self> {
        let total: u64 = parts
            .iter()
            .map(|&(h, _)| 1u64.checked_shl(h).unwrap_or(0))
            .sum();
        let decreasing = parts.windows(2).all(|w| w[0].0 > w[1].0);
        (total == size && decreasing).then_some(RootBuilder { stack: parts, size })
    }

    /// The root of the leaves pushed so far.
    pub fn root(&self) -> Hash {
        let mut hashes = self.stack.iter().rev().map(|&(_, h)| h);
        let Some(mut root) = hashes.next() else {
            return EMPTY_HASH;
        };
        for left in hashes {
            root = tlog_tiles::node_hash(left, root);
        }
        root
    }
}

/// Why a key, checkpoint or note is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("{0}")]
    Key(String),
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    Signature(String),
}

/// Signed-note algorithm byte of Ed25519 signatures (C2SP signed-note).
const ALG_ED25519: u8 = 0x01;
/// Signed-note algorithm byte of timestamped cosignatures (C2SP tlog-cosignature).
const ALG_COSIGNATURE_V1: u8 = 0x04;

/// A private key file: `PRIVATE+KEY+<name>+<id>+<base64(alg || seed)>` (the form of Go's
/// `sumdb/note`), algorithm 0x01 for a log key, 0x04 for a witness key.
fn parse_private_key(text: &str, alg: u8) -> Result<(String, SigningKey), NoteError> {
    let bad = || {
        NoteError::Key(
            "not an ipxfer key file (PRIVATE+KEY+<name>+<id>+<key>); make one with \
             `ipxfer log-key generate` or `ipxfer witness generate-key`"
                .to_owned(),
        )
    };
    let text = text.trim();
    let rest = text.strip_prefix("PRIVATE+KEY+").ok_or_else(bad)?;
    // The key's base64 may itself contain '+'.
    let mut parts = rest.splitn(3, '+');
    let (Some(name), Some(id), Some(key), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let key = BASE64_STANDARD.decode(key).map_err(|_| bad())?;
    if key.len() != 33 || !signed_note::is_key_name_valid(name) {
        return Err(bad());
    }
    if key[0] != alg {
        return Err(NoteError::Key(format!(
            "the key {name} is of algorithm {}, this needs {alg}: a log key and a witness key are \
             not interchangeable",
            key[0]
        )));
    }
    let sk = SigningKey::from_bytes(key[1..].try_into().expect("33 - 1 bytes"));
    let public = [&[alg], sk.verifying_key().as_bytes().as_slice()].concat();
    if u32::from_str_radix(id, 16).ok() != Some(signed_note::key_id(name, &public)) {
        return Err(NoteError::Key(format!(
            "the key id of {name} does not match its key"
        )));
    }
    Ok((name.to_owned(), sk))
}

fn private_key_text(name: &str, alg: u8, sk: &SigningKey) -> String {
    let public = [&[alg], sk.verifying_key().as_bytes().as_slice()].concat();
    format!(
        "PRIVATE+KEY+{name}+{:08x}+{}",
        signed_note::key_id(name, &public),
        BASE64_STANDARD.encode([&[alg], sk.as_bytes().as_slice()].concat())
    )
}

fn vkey_text(name: &str, alg: u8, vk: &VerifyingKey) -> String {
    let public = [&[alg], vk.as_bytes().as_slice()].concat();
    format!(
        "{name}+{:08x}+{}",
        signed_note::key_id(name, &public),
        BASE64_STANDARD.encode(public)
    )
}

/// Checks a key name (the log's origin, or a witness's name).
pub fn check_key_name(name: &str) -> Result<(), NoteError> {
    if signed_note::is_key_name_valid(name) {
        Ok(())
    } else {
        Err(NoteError::Key(format!(
            "{name:?} cannot name a key: it must be non-empty, without spaces or '+'"
        )))
    }
}

/// A new log key named `origin`: (private key file text, verifier key).
pub fn generate_log_key(
    rng: &mut impl CryptoRngCore,
    origin: &str,
) -> Result<(String, String), NoteError> {
    check_key_name(origin)?;
    let sk = SigningKey::generate(rng);
    Ok((
        private_key_text(origin, ALG_ED25519, &sk),
        vkey_text(origin, ALG_ED25519, &sk.verifying_key()),
    ))
}

/// A new witness key: (private key file text, cosignature verifier key).
pub fn generate_witness_key(
    rng: &mut impl CryptoRngCore,
    name: &str,
) -> Result<(String, String), NoteError> {
    check_key_name(name)?;
    let sk = SigningKey::generate(rng);
    Ok((
        private_key_text(name, ALG_COSIGNATURE_V1, &sk),
        vkey_text(name, ALG_COSIGNATURE_V1, &sk.verifying_key()),
    ))
}

/// The log's signing key; its name is the log's origin.
#[derive(Clone)]
pub struct LogSigner {
    signer: StandardSigner,
    vkey: String,
}

impl std::fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LogSigner({})", self.vkey)
    }
}

impl LogSigner {
    /// Reads a private key file's text.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let (name, sk) = parse_private_key(text, ALG_ED25519)?;
        let signer = StandardSigner::new(text.trim())
            .map_err(|e| NoteError::Key(format!("the log key is not valid: {e}")))?;
        Ok(LogSigner {
            signer,
            vkey: vkey_text(&name, ALG_ED25519, &sk.verifying_key()),
        })
    }

    /// The origin the key signs for.
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// The verifier key (`<origin>+<id>+<key>`), which auditors and witnesses are given.
    pub fn vkey(&self) -> &str {
        &self.vkey
    }

    /// Signs any text as a signed note.
    pub fn sign_note(&self, text: &str) -> Result<String, NoteError> {
        let mut note = Note::new(text.as_bytes(), &[])
            .map_err(|e| NoteError::Malformed(format!("cannot sign: {e}")))?;
        note.add_sigs(&[&self.signer])
            .map_err(|e| NoteError::Signature(format!("cannot sign: {e}")))?;
        Ok(String::from_utf8(note.to_bytes()).expect("a note is UTF-8"))
    }

    /// The signed checkpoint of the tree of `size` leaves with root `root`.
    pub fn sign_checkpoint(&self, size: u64, root: Hash) -> Result<String, NoteError> {
        self.sign_note(&checkpoint_text(self.origin(), size, root)?)
    }
}

/// The checkpoint body (C2SP tlog-checkpoint): origin, size, base64 root, each on a line.
pub fn checkpoint_text(origin: &str, size: u64, root: Hash) -> Result<String, NoteError> {
    let c = Checkpoint::new(origin, size, root, "")
        .map_err(|_| NoteError::Malformed(format!("{origin:?} cannot be a checkpoint origin")))?;
    Ok(String::from_utf8(c.to_bytes()).expect("a checkpoint is UTF-8"))
}

/// A verifier key of the log, parsed.
#[derive(Clone)]
pub struct LogVerifier {
    verifier: StandardVerifier,
    vkey: String,
}

impl std::fmt::Debug for LogVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LogVerifier({})", self.vkey)
    }
}

impl LogVerifier {
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let vkey = vkey.trim();
        let verifier = StandardVerifier::new(vkey).map_err(|e| {
            NoteError::Key(format!(
                "{vkey:?} is not a log verifier key (<origin>+<id>+<key>): {e}"
            ))
        })?;
        Ok(LogVerifier {
            verifier,
            vkey: vkey.to_owned(),
        })
    }

    pub fn origin(&self) -> &str {
        self.verifier.name()
    }

    pub fn vkey(&self) -> &str {
        &self.vkey
    }
}

/// A witness's key: signs cosignature/v1 over checkpoints.
#[derive(Clone)]
pub struct WitnessSigner {
    name: String,
    id: u32,
    key: SigningKey,
    vkey: String,
}

impl WitnessSigner {
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let (name, key) = parse_private_key(text, ALG_COSIGNATURE_V1)?;
        let public = [
            &[ALG_COSIGNATURE_V1],
            key.verifying_key().as_bytes().as_slice(),
        ]
        .concat();
        Ok(WitnessSigner {
            id: signed_note::key_id(&name, &public),
            vkey: vkey_text(&name, ALG_COSIGNATURE_V1, &key.verifying_key()),
            name,
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn vkey(&self) -> &str {
        &self.vkey
    }

    /// The cosignature line (`— <name> <base64>`) over a checkpoint body at `timestamp` (Unix
    /// seconds).
    pub fn cosign(&self, checkpoint: &[u8], timestamp: u64) -> String {
        let sig = self.key.sign(&cosigned_message(checkpoint, timestamp));
        let mut bytes = timestamp.to_be_bytes().to_vec();
        bytes.extend_from_slice(&sig.to_bytes());
        let s = Signature::new(self.name.clone(), self.id, bytes).expect("the name was checked");
        String::from_utf8(s.to_bytes()).expect("a signature line is UTF-8")
    }
}

/// What a cosignature/v1 signs (C2SP tlog-cosignature).
fn cosigned_message(checkpoint: &[u8], timestamp: u64) -> Vec<u8> {
    let mut m = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
    m.extend_from_slice(checkpoint);
    m
}

/// A witness's cosignature verifier key (`<name>+<id>+base64(0x04 || key)`).
#[derive(Debug, Clone)]
pub struct WitnessVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
    vkey: String,
}

impl WitnessVerifier {
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let vkey = vkey.trim();
        let bad = || {
            NoteError::Key(format!(
                "{vkey:?} is not a witness verifier key (<name>+<id>+<key>, cosignature/v1); \
                 `ipxfer witness generate-key` prints one"
            ))
        };
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id), Some(key), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let public = BASE64_STANDARD.decode(key).map_err(|_| bad())?;
        if public.len() != 33
            || public[0] != ALG_COSIGNATURE_V1
            || !signed_note::is_key_name_valid(name)
        {
            return Err(bad());
        }
        let id_value = u32::from_str_radix(id, 16).map_err(|_| bad())?;
        if id.len() != 8 || id_value != signed_note::key_id(name, &public) {
            return Err(bad());
        }
        let key = VerifyingKey::from_bytes(public[1..].try_into().expect("32 bytes"))
            .map_err(|_| bad())?;
        Ok(WitnessVerifier {
            name: name.to_owned(),
            id: id_value,
            key,
            vkey: vkey.to_owned(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn vkey(&self) -> &str {
        &self.vkey
    }

    /// The timestamp of a valid cosignature by this key over `text`, if `sig` is one.
    fn check(&self, text: &[u8], sig: &Signature) -> Option<u64> {
        if sig.name() != self.name || sig.id() != self.id || sig.signature().len() != 72 {
            return None;
        }
        let (ts, s) = sig.signature().split_at(8);
        let timestamp = u64::from_be_bytes(ts.try_into().ok()?);
        let s = ed25519_dalek::Signature::from_slice(s).ok()?;
        self.key
            .verify(&cosigned_message(text, timestamp), &s)
            .ok()
            .map(|()| timestamp)
    }
}

/// A checkpoint whose log signature verified, with the witnesses whose cosignatures verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedCheckpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// The checkpoint body (what is signed).
    pub text: String,
    /// Witness names, in the order of the given verifiers, with their cosignature times.
    pub cosigned_by: Vec<(String, u64)>,
}

/// Splits a signed note into its text and signature lines.
fn parse_note(note: &str) -> Result<Note, NoteError> {
    Note::from_bytes(note.as_bytes()).map_err(|_| {
        NoteError::Malformed(
            "not a signed note (text, a blank line, then signature lines)".to_owned(),
        )
    })
}

/// Verifies a note's signature by the log key and returns its text.
pub fn verify_note(note: &str, log: &LogVerifier) -> Result<String, NoteError> {
    let parsed = parse_note(note)?;
    let by_log = parsed.verify(&signed_note::VerifierList::new(vec![Box::new(
        log.verifier.clone(),
    )]));
    match by_log {
        Ok(_) => Ok(String::from_utf8(parsed.text().to_vec()).expect("a note is UTF-8")),
        Err(signed_note::NoteError::UnverifiedNote) => Err(NoteError::Signature(format!(
            "the note is not signed by the log key {}",
            log.vkey()
        ))),
        Err(_) => Err(NoteError::Signature(format!(
            "the signature by {} does not verify: the note was altered or signed by another key",
            log.origin()
        ))),
    }
}

/// Verifies a signed checkpoint against the log's key and reports which of `witnesses` cosigned
/// it. A cosignature that does not verify is ignored (it does not count towards a quorum).
pub fn verify_checkpoint(
    note: &str,
    log: &LogVerifier,
    witnesses: &[WitnessVerifier],
) -> Result<VerifiedCheckpoint, NoteError> {
    let text = verify_note(note, log)?;
    let c = Checkpoint::from_bytes(text.as_bytes())
        .map_err(|_| NoteError::Malformed("the note is not a checkpoint".to_owned()))?;
    if c.origin() != log.origin() {
        return Err(NoteError::Signature(format!(
            "the checkpoint is for the log {:?}, the key for {:?}",
            c.origin(),
            log.origin()
        )));
    }
    let sigs: Vec<Signature> = signature_lines(note)
        .iter()
        .filter_map(|l| Signature::from_bytes(l.trim_end().as_bytes()).ok())
        .collect();
    let cosigned_by = witnesses
        .iter()
        .filter_map(|w| {
            sigs.iter()
                .find_map(|s| w.check(text.as_bytes(), s))
                .map(|ts| (w.name().to_owned(), ts))
        })
        .collect();
    Ok(VerifiedCheckpoint {
        origin: c.origin().to_owned(),
        size: c.size(),
        root: *c.hash(),
        text,
        cosigned_by,
    })
}

/// The signature lines of a note (for publishing cosignatures next to the log's).
pub fn signature_lines(note: &str) -> Vec<String> {
    note.rsplit_once("\n\n")
        .map(|(_, sigs)| sigs.lines().map(|l| format!("{l}\n")).collect())
        .unwrap_or_default()
}

/// A note with more signature lines appended (each ends in a newline); lines already present
/// are not repeated.
pub fn with_signature_lines(note: &str, lines: &[String]) -> String {
    let mut out = note.to_owned();
    for l in lines {
        if !signature_lines(&out).contains(l) {
            out.push_str(l);
        }
    }
    out
}

/// A C2SP tlog-witness `add-checkpoint` request.
#[derive(Debug, Clone, PartialEq)]
pub struct AddCheckpoint {
    pub old_size: u64,
    pub proof: Vec<Hash>,
    /// The signed checkpoint note.
    pub checkpoint: String,
}

impl AddCheckpoint {
    /// The request body: `old <size>`, the proof lines, a blank line, the signed checkpoint.
    pub fn encode(&self) -> String {
        let mut body = format!("old {}\n", self.old_size);
        for h in &self.proof {
            body.push_str(&b64(h));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(&self.checkpoint);
        body
    }

    pub fn parse(body: &str) -> Result<Self, String> {
        let (head, checkpoint) = body
            .split_once("\n\n")
            .ok_or("the request has no blank line before the checkpoint")?;
        let mut lines = head.lines();
        let old_size = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or("the request must start with `old <size>`")?;
        let proof = lines.map(parse_b64).collect::<Result<Vec<_>, _>>()?;
        if proof.len() > 63 {
            return Err("the consistency proof is longer than any tree needs".to_owned());
        }
        Ok(AddCheckpoint {
            old_size,
            proof,
            checkpoint: checkpoint.to_owned(),
        })
    }
}

/// The last tree a witness cosigned for a log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WitnessedTree {
    pub size: u64,
    pub root: Hash,
}

/// Why a witness refuses a checkpoint; each maps to the status C2SP tlog-witness names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("this witness does not know the log {0:?}")]
    UnknownLog(String),
    #[error("{0}")]
    BadSignature(String),
    #[error("the witness has cosigned tree size {0}; send old {0}")]
    Conflict(u64),
    #[error("{0}")]
    BadProof(String),
    /// The witness could not record the tree; nothing was cosigned.
    #[error("{0}")]
    Unavailable(String),
}

impl Refusal {
    /// The HTTP status of this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Malformed(_) => 400,
            Refusal::BadSignature(_) => 403,
            Refusal::UnknownLog(_) => 404,
            Refusal::Conflict(_) => 409,
            Refusal::BadProof(_) => 422,
            Refusal::Unavailable(_) => 503,
        }
    }
}

/// The witness's decision on an `add-checkpoint` request, given the last tree it cosigned for the
/// log: the tree to record (and cosign) or why not. A witness never records a smaller tree, and
/// never one that is not an extension of the last it cosigned.
pub fn witness_decide(
    req: &AddCheckpoint,
    log: &LogVerifier,
    latest: Option<WitnessedTree>,
) -> Result<(WitnessedTree, String), Refusal> {
    let origin = req.checkpoint.lines().next().unwrap_or_default();
    if origin != log.origin() {
        return Err(Refusal::UnknownLog(origin.to_owned()));
    }
    let c = verify_checkpoint(&req.checkpoint, log, &[]).map_err(|e| match e {
        NoteError::Malformed(m) => Refusal::Malformed(m),
        other => Refusal::BadSignature(other.to_string()),
    })?;
    let latest_size = latest.map_or(0, |t| t.size);
    if req.old_size != latest_size {
        return Err(Refusal::Conflict(latest_size));
    }
    if req.old_size > c.size {
        return Err(Refusal::Malformed(format!(
            "old size {} is larger than the checkpoint's size {}",
            req.old_size, c.size
        )));
    }
    if let Some(t) = latest {
        if t.size == c.size && t.root != c.root {
            return Err(Refusal::Conflict(latest_size));
        }
        check_consistency(&req.proof, c.size, c.root, t.size, t.root).map_err(Refusal::BadProof)?;
    } else if !req.proof.is_empty() {
        return Err(Refusal::BadProof(
            "a proof from tree size 0 must be empty".to_owned(),
        ));
    }
    Ok((
        WitnessedTree {
            size: c.size,
            root: c.root,
        },
        c.text,
    ))
}

/// A tile request (C2SP tlog-tiles): `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileRequest {
    /// Level; `None` for an entry bundle.
    pub level: Option<u8>,
    pub index: u64,
    /// 1..=256; 256 is a full tile.
    pub width: u32,
}

impl TileRequest {
    /// Parses the path after `tile/`.
    pub fn parse(path: &str) -> Option<Self> {
        let mut parts: Vec<&str> = path.split('/').collect();
        let mut width = TILE_WIDTH as u32;
        if parts.len() >= 3 && parts[parts.len() - 2].ends_with(".p") {
            let w: u32 = parts.pop()?.parse().ok()?;
            if !(1..TILE_WIDTH as u32).contains(&w) {
                return None;
            }
            width = w;
            let last = parts.pop()?;
            parts.push(last.strip_suffix(".p")?);
        }
        let (first, digits) = parts.split_first()?;
        let level = match *first {
            "entries" => None,
            l => {
                let l: u8 = l.parse().ok()?;
                (l < 64 && l.to_string() == *first).then_some(l)?;
                Some(l)
            }
        };
        if digits.is_empty() || digits.len() > 7 {
            return None;
        }
        let mut index: u64 = 0;
        for (i, d) in digits.iter().enumerate() {
            let last = i == digits.len() - 1;
            let d = if last { *d } else { d.strip_prefix('x')? };
            if d.len() != 3 || !d.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            index = index
                .checked_mul(1000)?
                .checked_add(d.parse::<u64>().ok()?)?;
        }
        let t = TileRequest {
            level,
            index,
            width,
        };
        (t.path() == path).then_some(t)
    }

    /// The path after `tile/`.
    pub fn path(&self) -> String {
        let t = Tile::new(
            TILE_HEIGHT,
            self.level.unwrap_or(0),
            self.index,
            self.width,
            self.level.is_none(),
        );
        let go = t.path();
        let go = go
            .strip_prefix(&format!("tile/{TILE_HEIGHT}/"))
            .expect("tile paths start with the height");
        match go.strip_prefix("data/") {
            Some(rest) => format!("entries/{rest}"),
            None => go.to_owned(),
        }
    }

    /// Whether the tile is full (and so never changes: cacheable for ever).
    pub fn is_full(&self) -> bool {
        u64::from(self.width) == TILE_WIDTH
    }

    /// Leaves the tree must have for this tile to exist.
    pub fn needs_tree_size(&self) -> u64 {
        let level = self.level.unwrap_or(0);
        let end = self.index * TILE_WIDTH + u64::from(self.width);
        end.checked_shl(u32::from(level) * u32::from(TILE_HEIGHT))
            .filter(|&v| v >> (u32::from(level) * u32::from(TILE_HEIGHT)) == end)
            .unwrap_or(u64::MAX)
    }

    /// The stored hash indexes of a hash tile, in order.
    pub fn hash_indexes(&self) -> Vec<u64> {
        let level = self.level.unwrap_or(0) * TILE_HEIGHT;
        (0..u64::from(self.width))
            .map(|i| stored_hash_index(level, self.index * TILE_WIDTH + i))
            .collect()
    }

    /// The leaf indexes of an entry bundle.
    pub fn leaf_range(&self) -> std::ops::Range<u64> {
        let start = self.index * TILE_WIDTH;
        start..start + u64::from(self.width)
    }
}

/// An entry bundle (C2SP tlog-tiles): each entry as a big-endian u16 length and its bytes.
pub fn encode_entry_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let len = u16::try_from(e.len()).expect("a ledger entry is under 64 KiB");
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    out
}

/// Reads an entry bundle back into its entries.
pub fn decode_entry_bundle(mut data: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if data.len() < 2 {
            return Err("the entry bundle ends inside a length".to_owned());
        }
        let len = usize::from(u16::from_be_bytes([data[0], data[1]]));
        data = &data[2..];
        if data.len() < len {
            return Err("the entry bundle ends inside an entry".to_owned());
        }
        out.push(data[..len].to_vec());
        data = &data[len..];
    }
    Ok(out)
}

/// The hashes of a hash tile, split.
pub fn decode_hash_tile(data: &[u8]) -> Result<Vec<Hash>, String> {
    if data.is_empty() || !data.len().is_multiple_of(32) {
        return Err(format!(
            "a hash tile of {} bytes is not whole hashes",
            data.len()
        ));
    }
    Ok(data
        .chunks(32)
        .map(|c| Hash(c.try_into().expect("32 bytes")))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The leaves of the RFC 6962 test tree used by certificate-transparency and Go's sumdb/tlog.
    fn ct_leaves() -> Vec<Vec<u8>> {
        vec![
            vec![],
            vec![0x00],
            vec![0x10],
            vec![0x20, 0x21],
            vec![0x30, 0x31],
            vec![0x40, 0x41, 0x42, 0x43],
            vec![0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
            (0x60..=0x6f).collect(),
        ]
    }

    /// Roots of the first 1..=8 leaves (certificate-transparency's merkle_tree_test).
    const CT_ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    /// RFC 6962 section 2.1 written out as recursion, the way the RFC states it.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => EMPTY_HASH,
            1 => leaves[0],
            n => {
                let k = (n as u64 - 1).ilog2();
                let k = 1usize << k;
                tlog_tiles::node_hash(mth(&leaves[..k]), mth(&leaves[k..]))
            }
        }
    }

    fn build(n: u64) -> (Hashes, Vec<Hash>) {
        let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut hashes = Hashes::default();
        append_leaves(0, &mut hashes, leaves.iter().copied()).unwrap();
        (hashes, leaves)
    }

    #[test]
    fn roots_match_the_rfc_6962_test_vectors() {
        let leaves: Vec<Hash> = ct_leaves().iter().map(|l| leaf_hash(l)).collect();
        let mut hashes = Hashes::default();
        let mut builder = RootBuilder::default();
        for (i, leaf) in leaves.iter().enumerate() {
            append_leaves(i as u64, &mut hashes, [*leaf]).unwrap();
            builder.push(*leaf);
            let want = CT_ROOTS[i];
            assert_eq!(hex(&tree_hash(i as u64 + 1, &hashes).unwrap()), want);
            assert_eq!(hex(&builder.root()), want);
            assert_eq!(hex(&mth(&leaves[..=i])), want);
        }
        assert_eq!(
            hex(&RootBuilder::default().root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn batch_appends_equal_one_by_one_and_read_only_the_frontier() {
        let (all, leaves) = build(300);
        for split in [0u64, 1, 7, 8, 100, 255, 256, 299] {
            // Start from a tree that knows only its frontier.
            let (prefix, _) = build(split);
            let mut hashes = Hashes::default();
            for i in frontier_indexes(split) {
                hashes.insert(i, prefix.known[&i]);
            }
            let written =
                append_leaves(split, &mut hashes, leaves[split as usize..].iter().copied())
                    .unwrap();
            for (i, h) in written {
                assert_eq!(all.known[&i], h, "index {i} after split {split}");
            }
        }
        for n in 1..=300 {
            assert_eq!(tree_hash(n, &all).unwrap(), mth(&leaves[..n as usize]));
        }
    }

    #[test]
    fn a_missing_hash_is_named_not_guessed() {
        let hashes = Hashes::default();
        assert!(matches!(tree_hash(5, &hashes), Err(TreeError::Missing(v)) if !v.is_empty()));
    }

    #[test]
    fn inclusion_and_consistency_proofs_verify_and_tampering_fails() {
        let (hashes, leaves) = build(70);
        for size in 1..=70u64 {
            let root = mth(&leaves[..size as usize]);
            for i in 0..size {
                let p = inclusion_proof(size, i, &hashes).unwrap();
                check_inclusion(&p, size, root, i, leaves[i as usize]).unwrap();
                if i + 1 < size {
                    assert!(check_inclusion(&p, size, root, i, leaves[i as usize + 1]).is_err());
                }
            }
            for old in 0..=size {
                let old_root = mth(&leaves[..old as usize]);
                let p = consistency_proof(size, old, &hashes).unwrap();
                check_consistency(&p, size, root, old, old_root).unwrap();
                if old > 0 && old < size {
                    let other = leaf_hash(b"rewritten");
                    let err = check_consistency(&p, size, root, old, other).unwrap_err();
                    assert!(err.contains(&format!("tree size {old}")), "{err}");
                }
            }
        }
    }

    #[test]
    fn checkpoints_verify_with_their_key_and_not_another() {
        let mut rng = rand_core::OsRng;
        let (skey, vkey) = generate_log_key(&mut rng, "ipxfer.example.net").unwrap();
        let (_, other) = generate_log_key(&mut rng, "ipxfer.example.net").unwrap();
        let signer = LogSigner::parse(&skey).unwrap();
        assert_eq!(signer.vkey(), vkey);
        let root = leaf_hash(b"x");
        let note = signer.sign_checkpoint(3, root).unwrap();
        assert!(note.starts_with(&format!("ipxfer.example.net\n3\n{}\n\n— ", b64(&root))));
        let c = verify_checkpoint(&note, &LogVerifier::parse(&vkey).unwrap(), &[]).unwrap();
        assert_eq!((c.size, c.root), (3, root));
        let err = verify_checkpoint(&note, &LogVerifier::parse(&other).unwrap(), &[]).unwrap_err();
        assert!(
            err.to_string().contains("not signed by the log key"),
            "{err}"
        );
        let altered = note.replacen("\n3\n", "\n4\n", 1);
        assert!(verify_checkpoint(&altered, &LogVerifier::parse(&vkey).unwrap(), &[]).is_err());
        // A witness key is not a log key.
        let (wkey, wvkey) = generate_witness_key(&mut rng, "witness.arin").unwrap();
        assert!(LogSigner::parse(&wkey).is_err());
        assert!(LogVerifier::parse(&wvkey).is_err());
    }

    #[test]
    fn cosignatures_verify_per_witness() {
        let mut rng = rand_core::OsRng;
        let (skey, vkey) = generate_log_key(&mut rng, "log.example").unwrap();
        let log = LogVerifier::parse(&vkey).unwrap();
        let signer = LogSigner::parse(&skey).unwrap();
        let (w1, w1v) = generate_witness_key(&mut rng, "witness.arin").unwrap();
        let (_, w2v) = generate_witness_key(&mut rng, "witness.ripe").unwrap();
        let w1 = WitnessSigner::parse(&w1).unwrap();
        assert_eq!(w1.vkey(), w1v);
        let witnesses = [
            WitnessVerifier::parse(&w1v).unwrap(),
            WitnessVerifier::parse(&w2v).unwrap(),
        ];
        let note = signer.sign_checkpoint(1, leaf_hash(b"a")).unwrap();
        let text = verify_note(&note, &log).unwrap();
        let line = w1.cosign(text.as_bytes(), 1_700_000_000);
        let cosigned = with_signature_lines(&note, std::slice::from_ref(&line));
        assert_eq!(with_signature_lines(&cosigned, &[line]), cosigned);
        let c = verify_checkpoint(&cosigned, &log, &witnesses).unwrap();
        assert_eq!(
            c.cosigned_by,
            vec![("witness.arin".to_owned(), 1_700_000_000)]
        );
        // A cosignature over another checkpoint does not count.
        let other = w1.cosign(b"log.example\n2\nAAAA\n", 1);
        let c =
            verify_checkpoint(&with_signature_lines(&note, &[other]), &log, &witnesses).unwrap();
        assert!(c.cosigned_by.is_empty());
    }

    #[test]
    fn a_witness_cosigns_extensions_and_refuses_rewrites() {
        let mut rng = rand_core::OsRng;
        let (skey, vkey) = generate_log_key(&mut rng, "log.example").unwrap();
        let log = LogVerifier::parse(&vkey).unwrap();
        let signer = LogSigner::parse(&skey).unwrap();
        let (hashes, leaves) = build(20);
        let note = |n: u64| {
            signer
                .sign_checkpoint(n, mth(&leaves[..n as usize]))
                .unwrap()
        };
        let req = |old, proof, n| AddCheckpoint {
            old_size: old,
            proof,
            checkpoint: note(n),
        };
        let first = req(0, vec![], 5);
        assert_eq!(AddCheckpoint::parse(&first.encode()).unwrap(), first);
        let (t5, _) = witness_decide(&first, &log, None).unwrap();
        assert_eq!(t5.size, 5);
        let proof = consistency_proof(12, 5, &hashes).unwrap();
        let (t12, _) = witness_decide(&req(5, proof.clone(), 12), &log, Some(t5)).unwrap();
        assert_eq!(t12.size, 12);
        // Stale old size: 409 with the size the witness has.
        assert_eq!(
            witness_decide(&req(5, proof, 12), &log, Some(t12)),
            Err(Refusal::Conflict(12))
        );
        // A rewritten tree of size 15 signed with the real key: the proof cannot tie it to 12.
        let mut rewritten = leaves.clone();
        rewritten[3] = leaf_hash(b"changed");
        let (rhashes, _) = {
            let mut h = Hashes::default();
            append_leaves(0, &mut h, rewritten.iter().copied()).unwrap();
            (h, ())
        };
        let bad = AddCheckpoint {
            old_size: 12,
            proof: consistency_proof(15, 12, &rhashes).unwrap(),
            checkpoint: signer.sign_checkpoint(15, mth(&rewritten[..15])).unwrap(),
        };
        let refusal = witness_decide(&bad, &log, Some(t12)).unwrap_err();
        assert_eq!(refusal.status(), 422);
        // Same size, other root: conflict. Another log: 404. Another key: 403.
        let same = AddCheckpoint {
            old_size: 12,
            proof: vec![],
            checkpoint: signer.sign_checkpoint(12, mth(&rewritten[..12])).unwrap(),
        };
        assert_eq!(
            witness_decide(&same, &log, Some(t12)).unwrap_err().status(),
            409
        );
        let (other, _) = generate_log_key(&mut rng, "log.example").unwrap();
        let forged = AddCheckpoint {
            old_size: 0,
            proof: vec![],
            checkpoint: LogSigner::parse(&other)
                .unwrap()
                .sign_checkpoint(1, leaves[0])
                .unwrap(),
        };
        assert_eq!(
            witness_decide(&forged, &log, None).unwrap_err().status(),
            403
        );
        let (elsewhere, _) = generate_log_key(&mut rng, "other.example").unwrap();
        let foreign = AddCheckpoint {
            old_size: 0,
            proof: vec![],
            checkpoint: LogSigner::parse(&elsewhere)
                .unwrap()
                .sign_checkpoint(1, leaves[0])
                .unwrap(),
        };
        assert_eq!(
            witness_decide(&foreign, &log, None).unwrap_err().status(),
            404
        );
        assert!(AddCheckpoint::parse("old x\n\n").is_err());
    }

    #[test]
    fn tile_paths_round_trip_and_odd_ones_are_refused() {
        for (path, level, index, width) in [
            ("0/000", Some(0), 0, 256),
            ("1/x001/234.p/7", Some(1), 1234, 7),
            ("entries/x123/x456/789", None, 123_456_789, 256),
            ("entries/005.p/255", None, 5, 255),
        ] {
            let t = TileRequest::parse(path).unwrap();
            assert_eq!((t.level, t.index, t.width), (level, index, width), "{path}");
            assert_eq!(t.path(), path);
        }
        for bad in [
            "0/0",
            "0/000.p/0",
            "0/000.p/256",
            "64/000",
            "200/000",
            "00/000",
            "entries/1234",
            "0/x000",
            "0/001/",
            "data/000",
            "0/000.p/",
            "0/-01",
            "0/x1000/000",
        ] {
            assert_eq!(TileRequest::parse(bad), None, "{bad}");
        }
        let t = TileRequest::parse("1/000.p/2").unwrap();
        assert_eq!(t.needs_tree_size(), 512);
        assert_eq!(
            TileRequest::parse("entries/001.p/3").unwrap().leaf_range(),
            256..259
        );
        let data: Vec<Vec<u8>> = vec![b"a".to_vec(), vec![], b"ccc".to_vec()];
        let bundle = encode_entry_bundle(data.iter().map(Vec::as_slice));
        assert_eq!(decode_entry_bundle(&bundle).unwrap(), data);
        assert!(decode_entry_bundle(&bundle[..bundle.len() - 1]).is_err());
    }
}
