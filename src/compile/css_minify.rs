//! A small, conservative CSS minifier for author-written CSS.
//!
//! It drops comments, collapses whitespace runs to one space and removes the space next to
//! `{`, `}`, `;` and `,`, plus any `;` right before `}`. It never touches quoted strings, and
//! it keeps the space before `:` because `a :hover` and `a:hover` are different selectors.

/// Minifies `css`; the output is stable under a second run.
pub fn minify_css(css: &str) -> String {
    let chars: Vec<char> = css.chars().collect();
    let mut out = String::with_capacity(css.len());
    let mut pending_space = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '/' && chars.get(i + 1) == Some(&'*') {
            // An unterminated comment runs to the end, as in a browser.
            let end = (i + 2..chars.len().saturating_sub(1))
                .find(|&j| chars[j] == '*' && chars[j + 1] == '/')
                .map_or(chars.len(), |j| j + 2);
            pending_space = true;
            i = end;
            continue;
        }
        if c.is_whitespace() {
            pending_space = true;
            i += 1;
            continue;
        }
        if pending_space && !out.is_empty() && !ends_with_tight(&out) && !is_tight(c) {
            out.push(' ');
        }
        pending_space = false;
        if c == '"' || c == '\'' {
            i = copy_string(&chars, i, &mut out);
            continue;
        }
        if c == '}' {
            while out.ends_with(';') {
                out.pop();
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

fn is_tight(c: char) -> bool {
    matches!(c, '{' | '}' | ';' | ',')
}

fn ends_with_tight(out: &str) -> bool {
    out.chars().last().is_some_and(is_tight)
}

/// Copies the quoted string starting at `start` verbatim; returns the index past it.
fn copy_string(chars: &[char], start: usize, out: &mut String) -> usize {
    let quote = chars[start];
    out.push(quote);
    let mut i = start + 1;
    while i < chars.len() {
        let c = chars[i];
        out.push(c);
        i += 1;
        if c == '\\' {
            if let Some(&next) = chars.get(i) {
                out.push(next);
                i += 1;
            }
        } else if c == quote || c == '\n' {
            break;
        }
    }
    i
}
