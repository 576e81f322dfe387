//! The top-level members of a JSON object as raw slices, found by skipping over the values
//! instead of parsing them. Priming slices a few fields out of every compiled page (~50 KB,
//! most of it one nested `layoutData`); a full parse of each page was the largest cost of a
//! drain. Strings are skipped with `memchr` (they are most of a page's bytes), nesting is
//! tracked with a stack, so unbalanced or unterminated input is refused rather than sliced.
//! Values are not validated further: the blobs are JSON that edgepub itself serialized.

/// `(key, raw value)` for each member in order; the key is as written between its quotes.
/// `None` when `text` is not one well-formed object at this level.
pub fn members(text: &str) -> Option<Vec<(&str, &str)>> {
    members_skipping(text, None)
}

/// [`members`], taking the value that starts at `skip.0` to end at `skip.1` without scanning
/// it, when it opens and closes there with the same kind of bracket (the compiler records
/// where `layoutData`, most of a page, is). Anything else about the object is checked as
/// usual; with a span that does not fit, the object is scanned in full.
pub fn members_skipping(text: &str, skip: Option<(usize, usize)>) -> Option<Vec<(&str, &str)>> {
    let b = text.as_bytes();
    let skip = skip.filter(|&(s, e)| {
        s < e
            && matches!(
                (b.get(s), b.get(e - 1)),
                (Some(b'{'), Some(b'}')) | (Some(b'['), Some(b']'))
            )
    });
    match scan(text, skip) {
        None if skip.is_some() => scan(text, None),
        found => found,
    }
}

fn scan(text: &str, skip: Option<(usize, usize)>) -> Option<Vec<(&str, &str)>> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(16);
    let mut i = ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return (ws(b, i + 1) == b.len()).then_some(out);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(b, i)?;
        let key = text.get(i + 1..key_end - 1)?;
        i = ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = ws(b, i + 1);
        let value_end = match skip {
            Some((s, e)) if s == i => e,
            _ => value_end(b, i)?,
        };
        out.push((key, text.get(i..value_end)?));
        i = ws(b, value_end);
        match b.get(i) {
            Some(b',') => i = ws(b, i + 1),
            Some(b'}') => return (ws(b, i + 1) == b.len()).then_some(out),
            _ => return None,
        }
    }
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        i += 1;
    }
    i
}

/// The end (past the closing quote) of the string whose opening quote is at `i`. Most strings
/// in a page are a few bytes (keys, short props): those are stepped through byte by byte,
/// and only a string still open after that is handed to `memchr` (its setup costs more than
/// a short string does).
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    const SHORT: usize = 24;
    let mut i = i + 1;
    let short_end = (i + SHORT).min(b.len());
    while i < short_end {
        match b[i] {
            b'"' => return Some(i + 1),
            // A backslash escapes the next byte (`\uXXXX` continues with plain hex digits).
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    loop {
        let j = i + memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        if b[j] == b'"' {
            return Some(j + 1);
        }
        i = j + 2;
    }
}

fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => nested_end(b, i),
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

/// The end of the object or array opening at `i`.
fn nested_end(b: &[u8], mut i: usize) -> Option<usize> {
    let mut closers: Vec<u8> = Vec::with_capacity(32);
    loop {
        let c = *b.get(i)?;
        match c {
            b'"' => {
                i = string_end(b, i)?;
                continue;
            }
            b'{' => closers.push(b'}'),
            b'[' => closers.push(b']'),
            b'}' | b']' => {
                if closers.pop()? != c {
                    return None;
                }
                if closers.is_empty() {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::{members, members_skipping};

    #[test]
    fn members_are_the_raw_slices_of_each_value() {
        let text =
            r#" { "a" : 1 , "b":"x\"}]\\","c":{"d":[1,{"e":"]}"}],"f":null},"g":[],"h":true } "#;
        assert_eq!(
            members(text).unwrap(),
            vec![
                ("a", "1"),
                ("b", r#""x\"}]\\""#),
                ("c", r#"{"d":[1,{"e":"]}"}],"f":null}"#),
                ("g", "[]"),
                ("h", "true"),
            ]
        );
        assert_eq!(members("{}").unwrap(), vec![]);
        assert_eq!(members(r#"{"k":"ü✓"}"#).unwrap(), vec![("k", r#""ü✓""#)]);
        // Strings past the short-string steps, with escapes on either side of the switch.
        let long = format!(
            r#""{}\"{}\\{}""#,
            "a".repeat(22),
            "b".repeat(40),
            "c".repeat(3)
        );
        let text = format!(r#"{{"l":[{long},{{"m":{long}}}],"n":{long}}}"#);
        assert_eq!(
            members(&text).unwrap(),
            vec![
                ("l", format!("[{long},{{\"m\":{long}}}]").as_str()),
                ("n", long.as_str())
            ]
        );
    }

    #[test]
    fn a_span_that_does_not_fit_is_not_trusted() {
        let text = r#"{"a":[1,{"b":"]"}],"l":{"x":{"y":[2]},"z":"}"},"m":3}"#;
        let full = members(text);
        let l = text.find(r#"{"x""#).unwrap();
        let l_end = text.find(r#","m""#).unwrap();
        assert_eq!(&text[l..l_end], r#"{"x":{"y":[2]},"z":"}"}"#);
        // The recorded span, and spans that start elsewhere, end elsewhere or do not match.
        for skip in [
            (l, l_end),
            (l + 1, l_end),
            (l, l_end - 1),
            (l, l + 15),
            (1, 3),
            (l, text.len() + 5),
            (l_end, l),
        ] {
            assert_eq!(members_skipping(text, Some(skip)), full, "{skip:?}");
        }
        assert!(members_skipping(r#"{"a":{"b":1}"#, Some((5, 12))).is_none());
    }

    #[test]
    fn malformed_objects_are_refused() {
        for bad in [
            "",
            "[]",
            r#"{"a":1"#,
            r#"{"a":{"b":1}"#,
            r#"{"a":[1}}"#,
            r#"{"a":"x}"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":1} x"#,
            r#"{"a":}"#,
            r#"{"a":"\"#,
        ] {
            assert!(members(bad).is_none(), "{bad:?}");
        }
    }
}
