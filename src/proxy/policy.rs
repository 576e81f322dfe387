//! Commands the proxy refuses, and why.
//!
//! All requests share one multiplexed Redis connection. Anything that blocks it, changes its
//! state, or expects a long-lived conversation would break every other client at once, so
//! such commands are refused before they reach Redis, with a message that says why.

use super::command::Command;

/// Why a command cannot be served over REST; `None` when it may run.
pub(crate) fn refusal(cmd: &Command) -> Option<String> {
    let name = cmd.name();
    let reason = match name.as_str() {
        "SUBSCRIBE" | "PSUBSCRIBE" | "SSUBSCRIBE" | "UNSUBSCRIBE" | "PUNSUBSCRIBE"
        | "SUNSUBSCRIBE" => "pub/sub needs a long-lived connection, which a REST request is not",
        "MONITOR" | "SYNC" | "PSYNC" => {
            "it turns the connection into a stream, which a REST request cannot carry"
        }
        "BLPOP" | "BRPOP" | "BLMOVE" | "BRPOPLPUSH" | "BZPOPMIN" | "BZPOPMAX" | "BLMPOP"
        | "BZMPOP" | "WAIT" | "WAITAOF" => BLOCKING,
        "XREAD" | "XREADGROUP" if has_block_option(cmd) => BLOCKING,
        "MULTI" | "EXEC" | "DISCARD" | "WATCH" | "UNWATCH" => {
            "transactions are only available as a whole, through POST /multi-exec"
        }
        "QUIT" | "RESET" | "SELECT" | "HELLO" | "AUTH" => SHARED_STATE,
        "CLIENT" if !client_subcommand_allowed(cmd) => SHARED_STATE,
        "SHUTDOWN" | "DEBUG" => "server administration is not available over REST",
        _ => return None,
    };
    let shown = match name.as_str() {
        "CLIENT" => format!("CLIENT {}", subcommand(cmd)),
        _ => name.clone(),
    };
    Some(format!(
        "ERR command '{shown}' is not supported over REST: {reason}"
    ))
}

const BLOCKING: &str = "blocking commands would stall the connection that all REST requests share";
const SHARED_STATE: &str = "it changes the state of the connection that all REST requests share";

/// XREAD / XREADGROUP options come before `STREAMS`; after it, everything is a key or an ID,
/// so a stream named "block" must not trip the check.
fn has_block_option(cmd: &Command) -> bool {
    cmd.args()
        .iter()
        .take_while(|a| !a.eq_ignore_ascii_case(b"STREAMS"))
        .any(|a| a.eq_ignore_ascii_case(b"BLOCK"))
}

fn subcommand(cmd: &Command) -> String {
    cmd.args()
        .first()
        .map(|s| String::from_utf8_lossy(s).to_ascii_uppercase())
        .unwrap_or_default()
}

/// CLIENT subcommands that only read. An allow-list, because new CLIENT subcommands tend to
/// change connection state (REPLY, TRACKING, CACHING, NO-EVICT, SETNAME, KILL, PAUSE, ...).
fn client_subcommand_allowed(cmd: &Command) -> bool {
    matches!(
        subcommand(cmd).as_str(),
        "ID" | "INFO" | "LIST" | "GETNAME" | "GETREDIR" | "TRACKINGINFO" | "HELP"
    )
}

#[cfg(test)]
mod tests {
    use super::super::command::parse_single;
    use super::*;

    fn check(body: &str) -> Option<String> {
        let cmd = parse_single(body.as_bytes()).unwrap();
        refusal(&cmd)
    }

    #[test]
    fn refuses_listed_commands_case_insensitively() {
        for body in [
            r#"["subscribe","c"]"#,
            r#"["BLPOP","l",0]"#,
            r#"["multi"]"#,
            r#"["select",1]"#,
            r#"["client","reply","off"]"#,
            r#"["Client","Pause",100]"#,
            r#"["xread","BLOCK",0,"STREAMS","s","$"]"#,
            r#"["xreadgroup","group","g","c","block",10,"streams","s",">"]"#,
            r#"["hello","3"]"#,
            r#"["debug","sleep","1"]"#,
        ] {
            let msg = check(body).unwrap_or_else(|| panic!("{body} was allowed"));
            assert!(msg.contains("not supported over REST"), "{msg}");
        }
    }

    #[test]
    fn allows_ordinary_commands() {
        for body in [
            r#"["get","k"]"#,
            r#"["xread","COUNT",1,"STREAMS","block","0"]"#,
            r#"["client","id"]"#,
            r#"["client","list"]"#,
            r#"["scan","0","match","x*"]"#,
        ] {
            assert_eq!(check(body), None, "{body}");
        }
    }

    #[test]
    fn message_names_the_subcommand() {
        let msg = check(r#"["client","setname","x"]"#).unwrap_or_default();
        assert!(msg.contains("'CLIENT SETNAME'"), "{msg}");
    }
}
