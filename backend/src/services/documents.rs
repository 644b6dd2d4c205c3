//! Supporting documents (signed transfer agreement, company registration): checked by content,
//! capped in size, stored with their SHA-256, and recorded on the transfer's timeline.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::db;
use crate::db::transfer_store::NewDocument as StoredDocument;
use crate::db::transfer_store::{self, History};
use crate::domain::authz::{self, Action, Actor, TransferAccess};
use crate::domain::timeline::TimelineEvent;
use crate::domain::transfer::DocumentKind;
use crate::error::{AppError, AppResult};
use crate::services::accounts::actor_label;
use crate::services::transfer_access::{lock_and_load, not_found};

/// Largest accepted document.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// The content type of a PDF or image, decided by its first bytes rather than its name.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [b'%', b'P', b'D', b'F', b'-', ..] => Some("application/pdf"),
        [0x89, b'P', b'N', b'G', ..] => Some("image/png"),
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        _ => None,
    }
}

/// Most characters in a document's file name.
pub const MAX_NAME_CHARS: usize = 255;

/// Characters that change the direction of the text around them (Unicode's bidirectional
/// controls) or are invisible, which can make `invoice\u{202E}fdp.exe` read as `invoiceexe.pdf`.
fn hidden_char(c: char) -> Option<&'static str> {
    match c {
        '\u{061C}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}' => {
            Some("an invisible character that changes the direction of the text")
        }
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => Some("an invisible character"),
        _ => None,
    }
}

/// Checks a document's file name whole; the error says what is wrong with it. The name is not
/// repeated when the problem is a character that would garble it on the page.
pub fn check_file_name(name: &str) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("The document has no name: give the file a name and choose it again".into());
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!(
            "The document's name contains a control character (U+{:04X}): rename the file and \
             choose it again",
            u32::from(c)
        ));
    }
    if let Some((c, what)) = name.chars().find_map(|c| hidden_char(c).map(|w| (c, w))) {
        return Err(format!(
            "The document's name contains {what} (U+{:04X}), which can disguise what the file \
             is: rename the file and choose it again",
            u32::from(c)
        ));
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        let start: String = name.chars().take(40).collect();
        return Err(format!(
            "The name of “{start}…” is {chars} characters long: give the file a name of at most \
             {MAX_NAME_CHARS} characters"
        ));
    }
    Ok(())
}

/// Checks a document before anything is written: its name, its size and its content type,
/// decided by its bytes. Returns the content type.
pub fn check_document(filename: &str, bytes: &[u8]) -> AppResult<&'static str> {
    check_file_name(filename).map_err(AppError::Invalid)?;
    let filename = filename.trim();
    if bytes.is_empty() {
        return Err(AppError::invalid(format!("{filename} is empty")));
    }
    if bytes.len() > MAX_BYTES {
        return Err(AppError::invalid(format!(
            "{filename} is {} bytes; documents may be at most {} MiB",
            bytes.len(),
            MAX_BYTES / (1024 * 1024)
        )));
    }
    sniff(bytes)
        .ok_or_else(|| AppError::invalid(format!("{filename} is not a PDF, PNG or JPEG file")))
}

/// A document to store with a transfer, checked by [`check_document`].
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub kind: DocumentKind,
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// Stores a checked document and its line on the transfer's timeline, inside the caller's
/// transaction (which holds the transfer's lock).
pub(crate) async fn store(
    txn: &impl ConnectionTrait,
    transfer_id: i64,
    state: &str,
    doc: &NewDocument,
    content_type: &str,
    (user_id, label): (i64, String),
    now: OffsetDateTime,
) -> AppResult<i64> {
    let filename = doc.filename.trim();
    let stored = StoredDocument {
        transfer_id,
        kind: doc.kind.as_str(),
        filename,
        content_type,
        sha256: hex::encode(Sha256::digest(&doc.bytes)),
        content: doc.bytes.clone(),
        uploaded_by: user_id,
    };
    let id = transfer_store::insert_document(txn, stored, now).await?;
    let history = History {
        event: TimelineEvent::DocumentAdded,
        actor: Some(user_id),
        label,
        comment: Some(format!("{}: {filename}", doc.kind.as_str())),
    };
    transfer_store::record_event(txn, transfer_id, Some(state), state, history, now).await?;
    Ok(id)
}

/// Attaches a document to a transfer for a member of either organisation. A transfer the actor
/// may not see answers as one that does not exist.
pub async fn attach(
    db: &DatabaseConnection,
    actor: &Actor,
    transfer_id: i64,
    kind: DocumentKind,
    filename: &str,
    bytes: &[u8],
    now: OffsetDateTime,
) -> AppResult<i64> {
    let content_type = check_document(filename, bytes)?;
    let txn = db::begin_write(db).await?;
    let l = lock_and_load(&txn, transfer_id).await?;
    let access = TransferAccess::new(&l.facts, l.state.clone());
    if !authz::can(actor, Action::ViewTransfer, Some(&access)) {
        return Err(not_found(transfer_id));
    }
    if !authz::can(actor, Action::UploadDocument, Some(&access)) {
        return Err(AppError::Forbidden(format!(
            "you may not add documents to {}",
            l.facts.reference
        )));
    }
    let who = actor_label(&txn, actor).await?;
    let doc = NewDocument {
        kind,
        filename: filename.to_owned(),
        bytes: bytes.to_vec(),
    };
    let id = store(
        &txn,
        transfer_id,
        l.state.as_str(),
        &doc,
        content_type,
        who,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn documents_are_recognised_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(sniff(&[0x89, b'P', b'N', b'G', 13, 10]), Some("image/png"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"MZ\x90\x00 an executable"), None);
        assert_eq!(sniff(b""), None);
    }
}
