//! What a value of a query parameter or a body field should have looked like.

/// The format a value should have had, from the message its parser gave: serde reports only
/// the parser's complaint (chrono's "input contains invalid characters" says nothing of RFC
/// 3339), and the messages of the parsers this API uses are stable enough to recognise.
pub fn expected_format(message: &str) -> Option<&'static str> {
    const CHRONO: [&str; 7] = [
        "input contains invalid characters",
        "premature end of input",
        "trailing input",
        "input is out of range",
        "input is not enough for unique date and time",
        "no possible date and time matching input",
        "bad or unsupported format string",
    ];
    const INTEGER: [&str; 4] = [
        "invalid digit found in string",
        "cannot parse integer from empty string",
        "number too large to fit in target type",
        "number too small to fit in target type",
    ];
    if CHRONO.iter().any(|m| message.contains(m)) {
        Some("an RFC 3339 time such as 2026-12-24T09:00:00Z")
    } else if INTEGER.iter().any(|m| message.contains(m)) {
        Some("a whole number such as 50")
    } else if message.contains("UUID")
        || message.contains("invalid group")
        || message.contains("invalid character: found")
        || message.contains("invalid length: found")
    {
        Some("a UUID such as 0b9e1a52-3c0f-4b8e-9d2a-6f1c2e3d4a5b")
    } else if message.contains("provided string was not `true` or `false`") {
        Some("`true` or `false`")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_named() {
        let chrono_err = "x".parse::<chrono::DateTime<chrono::Utc>>().unwrap_err();
        assert!(expected_format(&chrono_err.to_string())
            .unwrap()
            .contains("RFC 3339"));
        let int_err = "ten".parse::<i64>().unwrap_err();
        assert!(expected_format(&int_err.to_string())
            .unwrap()
            .contains("whole number"));
        let uuid_err = uuid::Uuid::parse_str("nope").unwrap_err();
        assert!(expected_format(&uuid_err.to_string())
            .unwrap()
            .contains("UUID"));
        assert_eq!(expected_format("something else"), None);
    }
}
