use crate::compile::css_minify::minify_css;
use crate::compile::sanitize_css;

#[test]
fn closing_style_tags_are_removed_in_any_case() {
    assert_eq!(
        sanitize_css("a{}</style><script>alert(1)</script>"),
        "a{}><script>alert(1)</script>"
    );
    assert_eq!(sanitize_css("x</StYlE >y"), "x >y");
}

#[test]
fn import_statements_are_removed_whole() {
    assert_eq!(
        sanitize_css("@import url(https://evil/x.css); .a{color:red}"),
        " .a{color:red}"
    );
    assert_eq!(sanitize_css("@IMPORT 'x.css'"), "");
}

#[test]
fn expression_calls_are_neutralised() {
    assert_eq!(
        sanitize_css("width: expression(alert(1))"),
        "width: (alert(1))"
    );
    assert_eq!(sanitize_css("width: EXPRESSION (x)"), "width:  (x)");
    // The word alone is harmless and stays.
    assert_eq!(
        sanitize_css("content: 'expression'"),
        "content: 'expression'"
    );
}

#[test]
fn javascript_urls_are_neutralised() {
    assert_eq!(
        sanitize_css("background:url(javascript:alert(1))"),
        "background:url(:alert(1))"
    );
    assert_eq!(sanitize_css("url('JavaScript:x')"), "url(':x')");
    assert_eq!(sanitize_css("url(java\tscript:x)"), "url(:x)");
    assert_eq!(sanitize_css(r"url(java\9 script:x)"), "url(:x)");
    assert_eq!(sanitize_css(r"url(javascript\3a x)"), r"url(\3a x)");
}

#[test]
fn letter_escapes_do_not_hide_a_pattern() {
    assert_eq!(sanitize_css(r"@\69mport 'x'; a{}"), " a{}");
    assert_eq!(sanitize_css(r"@\000069 mport 'x'; a{}"), " a{}");
    assert_eq!(sanitize_css(r"w: \65xpression(1)"), "w: (1)");
    assert_eq!(sanitize_css(r"@\i\m\p\o\r\t x;"), "");
}

#[test]
fn legacy_behaviour_and_binding_vectors_are_removed() {
    assert_eq!(sanitize_css("behavior: url(x.htc)"), ": url(x.htc)");
    assert_eq!(sanitize_css("-moz-binding: url(x.xml#y)"), ": url(x.xml#y)");
}

#[test]
fn removing_one_match_cannot_leave_another() {
    assert_eq!(sanitize_css("</sty</stylele>"), ">");
    assert_eq!(sanitize_css("@im@import;port x;"), "");
}

#[test]
fn ordinary_css_is_untouched() {
    let css = r#".md\:flex{display:flex}.q::before{content:"\201C"}a>b{color:#fff;font-family:"Open Sans"}"#;
    assert_eq!(sanitize_css(css), css);
}

#[test]
fn sanitising_is_idempotent() {
    for css in [
        "</style",
        "@import x",
        r"@\69mport",
        "expression(",
        "a\\",
        "\\",
        "x</sty\\6c e",
    ] {
        let once = sanitize_css(css);
        assert_eq!(sanitize_css(&once), once, "{css:?}");
    }
}

#[test]
fn minify_drops_comments_and_redundant_whitespace_but_not_string_content() {
    let css = "/* c */ .a  >  .b ,\n .c {\n  color : red ;\n  content: \"a  b\" ;\n}\n a :hover{}";
    assert_eq!(
        minify_css(css),
        ".a > .b,.c{color : red;content: \"a  b\"}a :hover{}"
    );
    assert_eq!(minify_css("a{b:c;;}"), "a{b:c}");
    let once = minify_css(css);
    assert_eq!(minify_css(&once), once);
}
