//! Sanitiser for author-written CSS (`rawCSS` and style values).
//!
//! The CSS ends up inside a `<style>` element on the edge, so the one vector that matters on a
//! modern browser is breaking out of that element (`</style`). The others (`@import` pulling in
//! foreign CSS, IE's `expression(`, `javascript:` URLs, `behavior:` and `-moz-binding`) are
//! neutralised as defence in depth.
//!
//! Matching is case-insensitive and runs after CSS escapes that merely spell an ASCII letter
//! (`\69`, `\000069 `, `\i`) are decoded, since `@\69mport` is `@import` to a browser. Escapes of
//! anything else (`\201C`, `\:`) are left alone: decoding them could change what the CSS means.
//! Every rewrite removes characters, and the whole pass repeats until nothing changes, so
//! removing one match cannot leave a new one behind and sanitising is idempotent.

/// Returns `css` with every dangerous pattern removed.
pub fn sanitize_css(css: &str) -> String {
    let mut current: Vec<char> = css.chars().collect();
    loop {
        let next = remove_patterns(&decode_letter_escapes(&current));
        // Each pass that changes anything makes the text shorter, so this ends.
        if next == current {
            return current.into_iter().collect();
        }
        current = next;
    }
}

fn is_css_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c')
}

/// Parses the hex escape starting at the backslash at `i`: its code point and the index just
/// past it (including the one whitespace character a hex escape may swallow).
fn hex_escape(chars: &[char], i: usize) -> Option<(u32, usize)> {
    let mut j = i + 1;
    let mut value: u32 = 0;
    while j < chars.len() && j - (i + 1) < 6 {
        match chars[j].to_digit(16) {
            Some(d) => value = value * 16 + d,
            None => break,
        }
        j += 1;
    }
    if j == i + 1 {
        return None;
    }
    if j < chars.len() && chars[j] == '\r' && chars.get(j + 1) == Some(&'\n') {
        j += 2;
    } else if j < chars.len() && is_css_whitespace(chars[j]) {
        j += 1;
    }
    Some((value, j))
}

fn decode_letter_escapes(chars: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '\\' || i + 1 >= chars.len() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let next = chars[i + 1];
        if let Some((value, end)) = hex_escape(chars, i) {
            match char::from_u32(value).filter(char::is_ascii_alphabetic) {
                Some(letter) => out.push(letter),
                None => out.extend_from_slice(&chars[i..end]),
            }
            i = end;
        } else if next.is_ascii_alphabetic() {
            // A letter that is not a hex digit escapes to itself.
            out.push(next);
            i += 2;
        } else {
            // Copy the pair so an escaped backslash cannot start a second escape.
            out.extend_from_slice(&chars[i..i + 2]);
            i += 2;
        }
    }
    out
}

/// Index past whitespace, or past escapes that spell whitespace, starting at `i`: URL parsers
/// drop tabs and newlines inside a scheme, so `java\9 script:` still reads as `javascript:`.
fn skip_ignorable(chars: &[char], mut i: usize) -> usize {
    loop {
        if i < chars.len() && is_css_whitespace(chars[i]) {
            i += 1;
        } else if i < chars.len() && chars[i] == '\\' {
            match hex_escape(chars, i) {
                Some((0x9 | 0xA | 0xC | 0xD | 0x20, end)) => i = end,
                _ => return i,
            }
        } else {
            return i;
        }
    }
}

/// Matches `word` case-insensitively at `i`; with `loose`, ignorables may sit between letters.
/// Returns the index just past the match.
fn match_word(chars: &[char], i: usize, word: &str, loose: bool) -> Option<usize> {
    let mut j = i;
    for (n, expected) in word.chars().enumerate() {
        if loose && n > 0 {
            j = skip_ignorable(chars, j);
        }
        let c = chars.get(j)?;
        if !c.eq_ignore_ascii_case(&expected) {
            return None;
        }
        j += 1;
    }
    Some(j)
}

/// If a dangerous pattern starts at `i`, the index just past what must be removed.
fn dangerous_at(chars: &[char], i: usize) -> Option<usize> {
    if let Some(end) = match_word(chars, i, "</style", false) {
        return Some(end);
    }
    if match_word(chars, i, "@import", false).is_some() {
        // Drop the whole statement: a bare leftover `url(...)` would swallow the next rule.
        let end = chars[i..]
            .iter()
            .position(|&c| c == ';')
            .map_or(chars.len(), |p| i + p + 1);
        return Some(end);
    }
    if let Some(end) = match_word(chars, i, "expression", true) {
        if chars.get(skip_ignorable(chars, end)) == Some(&'(') {
            return Some(end);
        }
    }
    if let Some(end) = match_word(chars, i, "javascript", true) {
        // `\` covers `javascript\3a`, an escaped colon.
        if matches!(chars.get(skip_ignorable(chars, end)), Some(':' | '\\')) {
            return Some(end);
        }
    }
    if let Some(end) = match_word(chars, i, "behavior", true) {
        if chars.get(skip_ignorable(chars, end)) == Some(&':') {
            return Some(end);
        }
    }
    match_word(chars, i, "-moz-binding", true)
}

fn remove_patterns(chars: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        match dangerous_at(chars, i) {
            Some(end) => i = end,
            None => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

/// Whether `css` is unchanged by [`sanitize_css`].
pub fn is_clean(css: &str) -> bool {
    sanitize_css(css) == css
}
