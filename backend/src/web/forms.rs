//! Form errors as people read them: a summary at the top that links to each field, and the same
//! message next to the field. Entered values are kept by the page structs themselves.

/// One problem with one field.
use crate::domain::format::capitalise;

#[derive(Debug, Clone)]
pub struct FieldError {
    /// The field's `id`, so the summary can link to it.
    pub field: &'static str,
    pub message: String,
}

/// The problems of a submitted form, in the order of its fields.
#[derive(Debug, Clone, Default)]
pub struct FormErrors {
    pub items: Vec<FieldError>,
}

impl FormErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.items.push(FieldError {
            field,
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The message for a field, or "" (templates test it with `!= ""`).
    pub fn get(&self, field: &str) -> &str {
        self.items
            .iter()
            .find(|e| e.field == field)
            .map_or("", |e| e.message.as_str())
    }
}

impl FormErrors {
    /// The problems as one [`AppError::Invalid`], `field: message` each, for answers without a
    /// form to show them on (downloads, the JSON API).
    pub fn into_invalid(self) -> crate::error::AppError {
        crate::error::AppError::Invalid(
            self.items
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }
}

impl From<Vec<(&'static str, String)>> for FormErrors {
    fn from(v: Vec<(&'static str, String)>) -> Self {
        FormErrors {
            items: v
                .into_iter()
                .map(|(field, message)| FieldError { field, message })
                .collect(),
        }
    }
}

/// Checks a free-text field: required or not, and at most `max` characters.
pub fn text(
    errors: &mut FormErrors,
    field: &'static str,
    value: &str,
    label: &str,
    required: bool,
    max: usize,
) {
    let len = value.trim().chars().count();
    if required && len == 0 {
        errors.add(field, format!("Enter {label}"));
    } else if len > max {
        errors.add(
            field,
            format!(
                "{} must be {max} characters or fewer (it has {len})",
                capitalise(label)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fields_are_checked_for_presence_and_length() {
        let mut e = FormErrors::default();
        text(&mut e, "reason", "  ", "a reason", true, 10);
        text(
            &mut e,
            "comment",
            "far too long text",
            "the comment",
            false,
            5,
        );
        text(&mut e, "note", "", "a note", false, 5);
        assert_eq!(e.get("reason"), "Enter a reason");
        assert_eq!(
            e.get("comment"),
            "The comment must be 5 characters or fewer (it has 17)"
        );
        assert_eq!(e.get("note"), "");
        assert_eq!(e.items.len(), 2);
    }
}
