//! What every page shares: the signed-in person, the navigation of their role, the CSRF token
//! for forms, and a one-time message ("Transfer TX-2026-000003 filed").

use axum::response::Html;

use crate::domain::authz::Role;
use crate::error::AppError;

/// One link of the navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The layout's data (`templates/base.html`); every page struct has one as `chrome`.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    /// "Ana Lima", when signed in.
    pub user_name: Option<String>,
    /// "ARIN hostmaster", "member of Example Networks".
    pub role_label: String,
    pub nav: Vec<NavItem>,
    /// Goes into a hidden field of every form that changes something.
    pub csrf_token: String,
    /// Shown once, at the top of the page.
    pub flash: Option<String>,
}

/// The navigation of a role, with the entry for `path` marked current.
pub fn nav_for(role: &Role, path: &str) -> Vec<NavItem> {
    let items: &[(&'static str, &'static str)] = match role {
        Role::Member { .. } => &[
            ("/transfers", "Your transfers"),
            ("/transfers/new", "File a transfer"),
            ("/lookup", "Block lookup"),
        ],
        Role::Hostmaster { .. } => &[
            ("/queue", "Your queue"),
            ("/transfers", "Transfers"),
            ("/lookup", "Block lookup"),
        ],
        Role::Auditor => &[
            ("/ledger", "Ledger"),
            ("/transfers", "Transfers"),
            ("/lookup", "Block lookup"),
            ("/stats", "Statistics"),
        ],
        Role::Admin => &[
            ("/admin", "Attention"),
            ("/admin/organisations", "Organisations"),
            ("/admin/users", "Users"),
            ("/admin/policy", "Policy profiles"),
            ("/admin/emails", "E-mails"),
        ],
        Role::Anonymous => &[],
    };
    // The longest matching prefix is current, so /transfers/new does not also mark /transfers.
    let current = items
        .iter()
        .filter(|(href, _)| path == *href || path.starts_with(&format!("{href}/")))
        .map(|(href, _)| href.len())
        .max();
    items
        .iter()
        .map(|(href, label)| NavItem {
            href,
            label,
            current: Some(href.len()) == current
                && (path == *href || path.starts_with(&format!("{href}/"))),
        })
        .collect()
}

/// Renders a page; a render failure becomes an internal error.
pub fn render(page: &impl askama::Template) -> Result<Html<String>, AppError> {
    render_part(page).map(Html)
}

/// Renders part of a page that is kept and included in it with `|safe` (rows every viewer
/// sees alike, the statistics' figures); a render failure becomes an internal error.
pub fn render_part(part: &impl askama::Template) -> Result<String, AppError> {
    part.render().map_err(|e| AppError::Internal(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::transfer::OrgId;

    #[test]
    fn the_longest_matching_entry_is_current() {
        let nav = nav_for(&Role::Member { org_id: OrgId(1) }, "/transfers/new");
        let current: Vec<_> = nav.iter().filter(|n| n.current).map(|n| n.href).collect();
        assert_eq!(current, ["/transfers/new"]);
        let nav = nav_for(&Role::Member { org_id: OrgId(1) }, "/transfers/7");
        let current: Vec<_> = nav.iter().filter(|n| n.current).map(|n| n.href).collect();
        assert_eq!(current, ["/transfers"]);
        assert!(nav_for(&Role::Anonymous, "/").is_empty());
    }
}
