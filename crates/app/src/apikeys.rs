//! API keys of Open311 clients (civic apps, 12345 integrations): created
//! and revoked by administrators, shown once, stored as their SHA-256.
//! Each key files cases as its own user, which cannot sign in.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use wangge_core::org::Id;
use wangge_core::policy::Role;
pub use wangge_store::ApiKey;
use wangge_store::{AuditEntry, NewUser, StoreError};

use crate::App;
use crate::error::AppError;
use crate::privacy::random_bytes;

/// Every key starts so, to be recognisable in logs and secret scanners.
pub const KEY_PREFIX: &str = "w311_";

/// A key as lists show it.
#[derive(Debug, Clone, Serialize)]
pub struct ApiKeyView {
    pub name: String,
    /// The key's first characters.
    pub prefix: String,
    pub created_at: jiff::Timestamp,
    pub revoked_at: Option<jiff::Timestamp>,
}

impl From<&ApiKey> for ApiKeyView {
    fn from(k: &ApiKey) -> Self {
        Self {
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

fn key_hash(key: &str) -> Vec<u8> {
    Sha256::digest(key.trim().as_bytes()).to_vec()
}

impl App {
    /// Creates a key for a client; the key is in the answer, and nowhere
    /// else ever again.
    pub async fn add_api_key(
        &self,
        by: Option<Id>,
        name: &str,
    ) -> Result<(ApiKeyView, String), AppError> {
        let name = name.trim();
        let valid = (1..=40).contains(&name.chars().count())
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(AppError::invalid(
                "name",
                "1 to 40 letters, digits, '-', '_' or '.'",
                "名称应为 1 至 40 个字母、数字、“-”、“_”或“.”",
            ));
        }
        let key = format!(
            "{KEY_PREFIX}{}",
            URL_SAFE_NO_PAD
                .encode(random_bytes::<24>().map_err(|e| AppError::Internal(e.to_string()))?)
        );
        let now = self.now();
        let user = NewUser {
            username: format!("open311.{name}"),
            display_name: format!("Open311：{name}"),
            role: Role::Resident.as_str().into(),
            // Not a password hash: nobody signs in as a client.
            password_hash: "!api-key-client".into(),
            scopes: Vec::new(),
        };
        let audit =
            AuditEntry::new(now, by, "apikey.add", "api_key").detail(json!({ "name": name }));
        let stored = self
            .store
            .insert_api_key(
                user,
                name.to_owned(),
                key_hash(&key),
                key.chars().take(KEY_PREFIX.len() + 4).collect(),
                now,
                audit,
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    AppError::invalid("name", "a key of this name exists", "已有同名的密钥")
                }
                other => other.into(),
            })?;
        Ok((ApiKeyView::from(&stored), key))
    }

    pub async fn api_keys(&self) -> Result<Vec<ApiKeyView>, AppError> {
        Ok(self
            .store
            .api_keys()
            .await?
            .iter()
            .map(ApiKeyView::from)
            .collect())
    }

    pub async fn revoke_api_key(&self, by: Option<Id>, name: &str) -> Result<(), AppError> {
        let audit = AuditEntry::new(self.now(), by, "apikey.revoke", "api_key")
            .detail(json!({ "name": name }));
        self.store
            .revoke_api_key(name.trim(), self.now(), audit)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => {
                    AppError::invalid("name", "no live key of this name", "没有这个有效的密钥")
                }
                other => other.into(),
            })
    }

    /// The live key behind `key`, if any.
    pub async fn api_key(&self, key: &str) -> Result<Option<ApiKey>, AppError> {
        Ok(self
            .store
            .api_key_by_hash(&key_hash(key))
            .await?
            .filter(|k| k.revoked_at.is_none()))
    }
}
