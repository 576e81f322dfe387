//! Whether a JSON body can skip the reading that names problems: a well-formed object with
//! nothing one database could not store is deserialised straight into its type.

/// True when `body` is an object that surely holds no U+0000 and no number beyond ±1e300;
/// false when it might not (the exact check then names each field). Conservative: text that
/// merely looks like such a number only costs the exact check.
pub(super) fn surely_plain(body: &[u8]) -> bool {
    // Every body this API takes is an object; serde would also read a struct from an array.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return false;
    }
    // U+0000 can only be written as the escape (a raw control character is malformed JSON).
    if memchr::memmem::find(body, b"\\u0000").is_some() {
        return false;
    }
    // A number reaches 1e300 only with an exponent or 300 digits before its point; with fewer
    // than 200 digits in a row and exponents of at most two digits it stays below 1e299.
    let mut run = 0usize;
    for (i, &b) in body.iter().enumerate() {
        if b.is_ascii_digit() {
            run += 1;
            if run >= 200 {
                return false;
            }
            continue;
        }
        if (b == b'e' || b == b'E') && run > 0 {
            let rest = &body[i + 1..];
            let rest = rest
                .strip_prefix(b"+")
                .or_else(|| rest.strip_prefix(b"-"))
                .unwrap_or(rest);
            if rest.iter().take_while(|d| d.is_ascii_digit()).count() >= 3 {
                return false;
            }
        }
        run = 0;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::surely_plain;

    #[test]
    fn only_what_surely_needs_no_exact_check() {
        assert!(surely_plain(
            br##" {"a": [1, 2.5, -3e10, 1E-99, "#2e8b57"], "b": {"c": null}}"##
        ));
        for not_plain in [
            &b"[1]"[..],
            b"  \"s\"",
            br#"{"a": "x\u0000y"}"#,
            br#"{"a\u0000": 1}"#,
            br#"{"n": 1e300}"#,
            br#"{"n": -1.5E+301}"#,
            br#"{"n": 1e0300}"#,
        ] {
            assert!(
                !surely_plain(not_plain),
                "{}",
                String::from_utf8_lossy(not_plain)
            );
        }
        let long = format!("{{\"n\": {}}}", "9".repeat(250));
        assert!(!surely_plain(long.as_bytes()));
    }
}
