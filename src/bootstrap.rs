//! First start: on an empty database, make an admin and a public client, and
//! print how to get a token, so that a newcomer is one paste away from one.
//! Every start: make sure the browser pages' own client exists.

use std::io::Write;
use std::net::SocketAddr;

use chrono::Utc;

use crate::crypto::{opaque, password};
use crate::domain::{Email, GrantType, Scope};
use crate::store::{NewClient, NewUser, Store, StoreError};

/// The public client made on first start.
pub const CLI_CLIENT_ID: &str = "tessera-cli";

/// The first-party client of GraphiQL and the console: public, with its
/// refresh token only in the HttpOnly cookie, so that no script ever holds
/// one.
pub const CONSOLE_CLIENT_ID: &str = "tessera-console";

/// Creates the console's client unless it exists. Runs on every start, not
/// only on an empty database, so that a database made before the console
/// existed gets it too (and one deleted by mistake comes back).
pub async fn ensure_console_client(store: &Store) -> anyhow::Result<()> {
    if store.find_client(CONSOLE_CLIENT_ID).await?.is_some() {
        return Ok(());
    }
    let client = NewClient {
        client_id: CONSOLE_CLIENT_ID.into(),
        secret_hash: None,
        grant_types: vec![GrantType::Password, GrantType::RefreshToken],
        scopes: Scope::from_stored("profile email"),
        refresh_cookie: true,
    };
    match store.insert_client(client, Utc::now()).await {
        // Another instance made it at the same moment.
        Ok(_) | Err(StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

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
    let shown = generated.then_some(password.as_str());
    let banner = banner(&host, admin.email.as_str(), shown);
    // One write, so that no log line lands in the middle of the block.
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(banner.as_bytes());
    let _ = out.flush();
    Ok(())
}

/// The first-start block: who the admin is, the password if it was
/// generated (it is shown nowhere else, ever), the curl that gets a token,
/// and where the browser pages are. Framed, so that it stands out from the
/// log lines around it.
fn banner(host: &str, email: &str, generated_password: Option<&str>) -> String {
    const RULE: &str =
        "================================================================================";
    let (password_line, password_arg) = match generated_password {
        Some(p) => (
            format!("  password   {p}\n             (generated; shown only this once)"),
            format!("'password={p}'"),
        ),
        None => (
            "  password   the one in TESSERA_ADMIN_PASSWORD".to_string(),
            "\"password=$TESSERA_ADMIN_PASSWORD\"".to_string(),
        ),
    };
    format!(
        "\n{RULE}\n  Tessera: first start. Created the admin user and the client `{CLI_CLIENT_ID}`.\n\n  \
         admin      {email}\n{password_line}\n\n  \
         Get a token:\n\n    \
         curl -s http://{host}/oauth/token -d grant_type=password -d client_id={CLI_CLIENT_ID} \\\n      \
         --data-urlencode 'username={email}' --data-urlencode {password_arg}\n\n  \
         GraphiQL   http://{host}/graphql\n  \
         console    http://{host}/console\n{RULE}\n\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_shows_a_generated_password_and_where_to_go() {
        let text = banner("127.0.0.1:8080", "admin@localhost", Some("s3cret-pw"));
        assert!(text.contains("s3cret-pw"));
        assert!(text.contains("'password=s3cret-pw'"));
        assert!(text.contains("curl -s http://127.0.0.1:8080/oauth/token"));
        assert!(text.contains("http://127.0.0.1:8080/graphql"));
        assert!(text.contains("http://127.0.0.1:8080/console"));
    }

    #[test]
    fn the_banner_never_shows_a_password_from_the_environment() {
        let text = banner("127.0.0.1:8080", "admin@localhost", None);
        assert!(text.contains("$TESSERA_ADMIN_PASSWORD"));
        assert!(text.contains("--data-urlencode 'username=admin@localhost'"));
    }
}
