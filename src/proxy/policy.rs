//! Commands the proxy refuses, and why.
//!
//! All requests share one multiplexed Redis connection. Anything that blocks it, changes its
//! state, or expects a long-lived conversation would break every other client at once, so
//! such commands are refused before they reach Redis, with a message that says why.

use super::command::Command;

/// Administrative commands, refused by default: edges need data commands only, and a REST
/// endpoint must not be a console for the Redis behind it. An operator may allow some of them
/// (`EDGEPUB_PROXY_ALLOW_COMMANDS`). EVAL and friends are here because a script can call any
/// of the others.
pub const ADMIN_COMMANDS: &[&str] = &[
    "FLUSHALL",
    "FLUSHDB",
    "CONFIG",
    "ACL",
    "REPLICAOF",
    "SLAVEOF",
    "SAVE",
    "BGSAVE",
    "BGREWRITEAOF",
    "SWAPDB",
    "MIGRATE",
    "SCRIPT",
    "MODULE",
    "FUNCTION",
    "EVAL",
    "EVALSHA",
    "EVAL_RO",
    "EVALSHA_RO",
    "FCALL",
    "FCALL_RO",
    "FAILOVER",
    "CLUSTER",
    "LATENCY",
    "SLOWLOG",
    "SHUTDOWN",
    "DEBUG",
];

/// Why a command cannot be served over REST; `None` when it may run. `allowed` lists the
/// administrative commands an operator let through.
pub(crate) fn refusal(cmd: &Command, allowed: &[String]) -> Option<String> {
    let name = cmd.name();
    if ADMIN_COMMANDS.contains(&name.as_str())
        && !allowed.iter().any(|a| a.eq_ignore_ascii_case(&name))
    {
        return Some(format!(
            "ERR command '{name}' is not supported over REST: administrative commands are refused \
             (an operator may allow them with EDGEPUB_PROXY_ALLOW_COMMANDS)"
        ));
    }
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
        refusal(&cmd, &[])
    }

    #[test]
    fn admin_commands_are_refused_unless_allowed() {
        for body in [
            r#"["flushall"]"#,
            r#"["CONFIG","GET","*"]"#,
            r#"["eval","return 1",0]"#,
            r#"["acl","list"]"#,
            r#"["replicaof","h","1"]"#,
            r#"["script","flush"]"#,
        ] {
            let msg = check(body).unwrap_or_else(|| panic!("{body} was allowed"));
            assert!(msg.contains("administrative"), "{msg}");
        }
        let cmd = parse_single(br#"["config","get","maxmemory"]"#).unwrap();
        assert_eq!(refusal(&cmd, &["config".to_string()]), None);
        // The allow-list never lets a connection-breaking command through.
        let cmd = parse_single(br#"["subscribe","c"]"#).unwrap();
        assert!(refusal(&cmd, &["SUBSCRIBE".to_string()]).is_some());
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
