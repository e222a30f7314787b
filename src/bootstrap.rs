//! First start: on an empty database, make an admin and a public client, and
//! print how to get a token, so that a newcomer is one paste away from one.

use std::net::SocketAddr;

use chrono::Utc;

use crate::crypto::{opaque, password};
use crate::domain::{Email, GrantType, Scope};
use crate::store::{NewClient, NewUser, Store, StoreError};

/// The public client made on first start.
pub const CLI_CLIENT_ID: &str = "tessera-cli";

pub async fn run(store: &Store, bind: SocketAddr) -> anyhow::Result<()> {
    if store.count_users().await? > 0 {
        return Ok(());
    }
    let email_raw =
        std::env::var("TESSERA_ADMIN_EMAIL").unwrap_or_else(|_| "admin@localhost".into());
    let email =
        Email::parse(&email_raw).map_err(|e| anyhow::anyhow!("TESSERA_ADMIN_EMAIL: {e}"))?;
    let (password, generated) = match std::env::var("TESSERA_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (opaque::generate(), true),
    };
    password::check_policy(&password)
        .map_err(|e| anyhow::anyhow!("TESSERA_ADMIN_PASSWORD: {e}"))?;
    let hash = {
        let password = password.clone();
        tokio::task::spawn_blocking(move || password::hash_now(&password)).await??
    };
    let now = Utc::now();
    let admin = store
        .insert_user(
            NewUser {
                id: uuid::Uuid::now_v7().to_string(),
                email,
                password_hash: hash,
                first_name: None,
                last_name: None,
                roles: vec!["admin".into()],
            },
            now,
        )
        .await;
    let admin = match admin {
        Ok(admin) => admin,
        // Another instance bootstrapped at the same moment.
        Err(StoreError::Conflict(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let client = NewClient {
        client_id: CLI_CLIENT_ID.into(),
        secret_hash: None,
        grant_types: vec![GrantType::Password, GrantType::RefreshToken],
        scopes: Scope::from_stored("profile email"),
        refresh_cookie: false,
    };
    match store.insert_client(client, now).await {
        Ok(_) | Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }

    let host = if bind.ip().is_unspecified() {
        format!("127.0.0.1:{}", bind.port())
    } else {
        bind.to_string()
    };
    let password_arg = if generated {
        println!(
            "Created the admin user {} with the generated password:\n\n    {password}\n",
            admin.email
        );
        println!("It is shown only this once.");
        format!("'password={password}'")
    } else {
        println!(
            "Created the admin user {} with the password from TESSERA_ADMIN_PASSWORD.",
            admin.email
        );
        "\"password=$TESSERA_ADMIN_PASSWORD\"".to_string()
    };
    println!("Get a token with:\n");
    println!(
        "    curl -s http://{host}/oauth/token -d grant_type=password -d client_id={CLI_CLIENT_ID} \\\n      --data-urlencode 'username={}' --data-urlencode {password_arg}\n",
        admin.email
    );
    Ok(())
}
