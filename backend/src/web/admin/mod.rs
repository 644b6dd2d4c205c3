//! The administrator's pages: what needs attention, organisations, users and invitations, the
//! registry policy profiles the server runs with, and failed e-mails.

mod attention;
mod emails;
mod organisations;
mod policy;
mod users;

use axum::Router;
use serde::Deserialize;

use super::AppState;
use super::view::registry_name;
use crate::db::entities::user;
use crate::domain::Rir;

/// Rows per page of the organisation and user lists.
const PAGE: u64 = 50;

/// Longest organisation handle.
const MAX_HANDLE: usize = 64;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(attention::routes())
        .merge(organisations::routes())
        .merge(users::routes())
        .merge(policy::routes())
        .merge(emails::routes())
}

/// A choice of a `<select>` or radio group, marked when it is the entered value.
struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

fn registry_choices(selected: &str) -> Vec<Choice> {
    Rir::ALL
        .iter()
        .map(|r| Choice {
            value: r.token(),
            label: r.nro_name(),
            selected: r.token() == selected,
        })
        .collect()
}

const ROLES: [(&str, &str); 4] = [
    ("member", "Member of an organisation"),
    ("hostmaster", "Registry hostmaster"),
    ("auditor", "Auditor"),
    ("admin", "Administrator"),
];

fn role_choices(selected: &str) -> Vec<Choice> {
    ROLES
        .iter()
        .map(|(value, label)| Choice {
            value,
            label,
            selected: *value == selected,
        })
        .collect()
}

/// "member (organisation 12)", "RIPE NCC hostmaster", "auditor".
fn role_label(u: &user::Model) -> String {
    match u.role.as_str() {
        "hostmaster" => format!(
            "{} hostmaster",
            registry_name(u.registry.as_deref().unwrap_or_default())
        ),
        other => other.to_owned(),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    /// The last id of the previous page (keyset pagination).
    after: Option<i64>,
}

/// A form with nothing to fill in but its CSRF token.
#[derive(Deserialize)]
struct Empty {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_mark_the_entered_value() {
        let chosen: Vec<_> = registry_choices("lacnic")
            .into_iter()
            .filter(|c| c.selected)
            .map(|c| c.label)
            .collect();
        assert_eq!(chosen, ["LACNIC"]);
        assert!(role_choices("root").iter().all(|c| !c.selected));
        assert_eq!(registry_name("ripencc"), "RIPE NCC");
        assert_eq!(registry_name("iana"), "iana");
    }
}
