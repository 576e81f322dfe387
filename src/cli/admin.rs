//! `edgepub secrets rotate-key` and `edgepub token …`.

use super::*;
use crate::audit::{self, Summary};
use crate::store::tokens::Revoked;

pub(super) async fn rotate_key(
    config: &Config,
    store: &Store,
    new_key: Option<String>,
) -> anyhow::Result<()> {
    use crate::secrets::{self, Key, Keyring};
    let old = secrets::load_keyring(
        config.secret_key.as_ref().map(|k| k.expose()),
        &config.data_dir,
    )?;
    let (ring, from_env) = match (&config.secret_key, new_key) {
        // Every key loaded so far keeps opening what it sealed until all is re-sealed.
        (Some(_), Some(new)) => (
            Keyring::new(Key::parse(&new)?, old.keys().cloned().collect()),
            true,
        ),
        (Some(_), None) => {
            anyhow::bail!("EDGEPUB_SECRET_KEY is set: pass the new key with --new-key")
        }
        (None, Some(_)) => {
            anyhow::bail!("--new-key is for EDGEPUB_SECRET_KEY setups; the key file rotates itself")
        }
        // The new key is on disk (with the old one kept as previous) before anything is
        // re-sealed, so an interrupted rotation leaves every secret readable.
        (None, None) => (secrets::rotate_file_key(&config.data_dir, &old)?, false),
    };
    // The key id only: never the key.
    let key_id = ring.current().id().to_string();
    let count = store
        .atomic(async {
            let count = store.with_keyring(ring.clone()).reseal_secrets().await?;
            audit::record_cli(store, "secrets.rotate_key", None, key_id, Summary::none()).await?;
            Ok::<_, anyhow::Error>(count)
        })
        .await?;
    if from_env {
        eprintln!("edgepub: re-sealed {count} secrets under key {}; now set EDGEPUB_SECRET_KEY to the new key", ring.current().id());
    } else {
        secrets::forget_previous(&config.data_dir)?;
        eprintln!(
            "edgepub: re-sealed {count} secrets under new key {} (key file {})",
            ring.current().id(),
            secrets::KEY_FILE
        );
    }
    Ok(())
}

pub(super) async fn token_command(store: &Store, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            name,
            scopes,
            project,
        } => {
            let project_id = match project {
                Some(p) => Some(
                    store
                        .get_project(&p)
                        .await
                        .map_err(|_| anyhow::anyhow!("no project `{p}`"))?
                        .id,
                ),
                None => None,
            };
            let secret = token::generate();
            let info = store
                .atomic(async {
                    let info = store
                        .insert_token(&secret, &name, &scopes, project_id)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("generated token collided; try again"))?;
                    let summary = Summary::of(&info);
                    audit::record_cli(store, "token.create", info.project_id, info.id, summary)
                        .await?;
                    Ok::<_, anyhow::Error>(info)
                })
                .await?;
            eprintln!(
                "edgepub: created token `{}` ({}); the secret below is shown only once",
                info.name, info.id
            );
            println!("{secret}");
        }
        TokenCommand::List => {
            println!(
                "{:<36}  {:<24}  {:<20}  {:<12}  {:<36}  status",
                "id", "name", "scopes", "fingerprint", "project"
            );
            for t in store.list_tokens().await? {
                let scopes = token::join_scopes(&t.scopes);
                let project = t
                    .project_id
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "-".into());
                let status = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{:<36}  {:<24}  {:<20}  {:<12}  {:<36}  {status}",
                    t.id, t.name, scopes, t.prefix, project
                );
            }
        }
        TokenCommand::Revoke { id_or_name } => {
            let t = store
                .atomic(async {
                    let t = match store
                        .revoke_token(&id_or_name)
                        .await
                        .map_err(|_| anyhow::anyhow!("no token `{id_or_name}`"))?
                    {
                        Revoked::One(t) => t,
                        Revoked::Ambiguous(tokens) => {
                            let ids: Vec<String> =
                                tokens.iter().map(|t| t.id.to_string()).collect();
                            anyhow::bail!(
                                "{} tokens are named `{id_or_name}`; nothing was revoked. Revoke one by id: {}",
                                ids.len(),
                                ids.join(", ")
                            );
                        }
                    };
                    let summary = Summary::of(&serde_json::json!({ "name": t.name }));
                    audit::record_cli(store, "token.revoke", t.project_id, t.id, summary).await?;
                    Ok::<_, anyhow::Error>(t)
                })
                .await?;
            eprintln!("edgepub: revoked token `{}` ({})", t.name, t.id);
        }
    }
    Ok(())
}
