//! The administrative commands. Whatever a script reads is one JSON object
//! on stdout; errors are one line on stderr and a non-zero exit.

use std::io::BufRead;

use chrono::Utc;
use serde_json::json;

use crate::config::{ClientCreateArgs, DatabaseArgs, PurgeArgs, UserCreateArgs};
use crate::crypto::password;
use crate::domain::{Email, GrantType};
use crate::oauth::management::{ClientSpec, create_client};
use crate::store::{NewUser, Store};

async fn open(database: &DatabaseArgs) -> anyhow::Result<Store> {
    let store = Store::connect(&database.url()).await?;
    store.migrate().await?;
    Ok(store)
}

pub async fn migrate(database: DatabaseArgs) -> anyhow::Result<()> {
    open(&database).await?;
    println!("{}", json!({ "migrated": true }));
    Ok(())
}

pub async fn user_create(args: UserCreateArgs) -> anyhow::Result<()> {
    let email = Email::parse(&args.email).map_err(anyhow::Error::msg)?;
    let password = match args.password {
        Some(p) => p,
        None => read_password_line()?,
    };
    password::check_policy(&password).map_err(anyhow::Error::msg)?;
    let roles = args
        .roles
        .iter()
        .map(|r| validate_role(r))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let store = open(&args.database).await?;
    let hash = tokio::task::spawn_blocking(move || password::hash_now(&password)).await??;
    let user = store
        .insert_user(
            NewUser {
                id: uuid::Uuid::now_v7().to_string(),
                email,
                password_hash: hash,
                first_name: args.first_name,
                last_name: args.last_name,
                roles,
            },
            Utc::now(),
        )
        .await?;
    println!("{}", json!({ "id": user.id, "email": user.email }));
    Ok(())
}

fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Role names are single words: letters, digits, `_`, `-`, `.`, `:`.
pub fn validate_role(role: &str) -> anyhow::Result<String> {
    let ok = !role.is_empty()
        && role.len() <= 64
        && role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
    if ok {
        Ok(role.to_string())
    } else {
        anyhow::bail!("`{role}` is not a valid role name (letters, digits, _ - . :)")
    }
}

pub async fn client_create(args: ClientCreateArgs) -> anyhow::Result<()> {
    let grant_types = args
        .grant_types
        .iter()
        .map(|g| GrantType::parse(g).ok_or_else(|| anyhow::anyhow!("unknown grant type `{g}`")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let spec = ClientSpec {
        client_id: args.client_id,
        public: args.public,
        secret: args.secret,
        grant_types,
        scopes: args.scopes,
        refresh_cookie: args.refresh_cookie,
    };
    let store = open(&args.database).await?;
    let created = create_client(&store, spec, Utc::now()).await?;
    println!(
        "{}",
        json!({ "client_id": created.client.client_id, "client_secret": created.secret })
    );
    Ok(())
}

pub async fn keys_rotate(database: DatabaseArgs) -> anyhow::Result<()> {
    let store = open(&database).await?;
    let key = crate::oauth::keys::rotate_key(&store).await?;
    println!("{}", json!({ "kid": key.kid, "algorithm": key.algorithm }));
    Ok(())
}

pub async fn purge(args: PurgeArgs) -> anyhow::Result<()> {
    let store = open(&args.database).await?;
    let cutoff = Utc::now() - chrono::Duration::from_std(args.retention)?;
    let purged = store.purge(cutoff).await?;
    println!(
        "{}",
        json!({
            "count": purged.refresh_tokens,
            "refresh_tokens": purged.refresh_tokens,
            "sessions": purged.sessions,
        })
    );
    Ok(())
}
