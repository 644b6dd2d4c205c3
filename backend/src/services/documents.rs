//! Supporting documents (signed transfer agreement, company registration): checked by content,
//! capped in size, stored with their SHA-256, and recorded on the transfer's timeline.

use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::db;
use crate::db::entities::document;
use crate::domain::authz::{self, Action, Actor, TransferAccess};
use crate::domain::transfer::DocumentKind;
use crate::error::{AppError, AppResult};
use crate::services::transfers::{self, History};

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

/// Attaches a document to a transfer for a member of either organisation.
pub async fn attach(
    db: &DatabaseConnection,
    actor: &Actor,
    transfer_id: i64,
    kind: DocumentKind,
    filename: &str,
    bytes: &[u8],
    now: OffsetDateTime,
) -> AppResult<i64> {
    let filename = filename.trim();
    if filename.is_empty() || filename.len() > 255 || filename.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "give the document a file name of at most 255 characters",
        ));
    }
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
    let content_type = sniff(bytes)
        .ok_or_else(|| AppError::invalid(format!("{filename} is not a PDF, PNG or JPEG file")))?;

    let txn = db::begin_write(db).await?;
    let l = transfers::lock_and_load(&txn, transfer_id).await?;
    let access = TransferAccess::new(&l.facts, l.state.clone());
    if !authz::can(actor, Action::UploadDocument, Some(&access)) {
        return Err(AppError::Forbidden(format!(
            "you may not add documents to {}",
            l.facts.reference
        )));
    }
    let (user_id, label) = transfers::actor_label(&txn, actor).await?;
    let row = document::ActiveModel {
        transfer_id: Set(transfer_id),
        kind: Set(kind.as_str().to_owned()),
        filename: Set(filename.to_owned()),
        content_type: Set(content_type.to_owned()),
        size_bytes: Set(bytes.len() as i64),
        sha256: Set(hex::encode(Sha256::digest(bytes))),
        content: Set(bytes.to_vec()),
        uploaded_by: Set(user_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let history = History {
        event: "document_added".to_owned(),
        actor: Some(user_id),
        label,
        comment: Some(format!("{}: {filename}", kind.as_str())),
    };
    transfers::record_event(
        &txn,
        transfer_id,
        Some(&l.row.state),
        &l.row.state,
        history,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
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
