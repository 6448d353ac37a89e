//! Sensitive fields at rest: AEAD encryption and a keyed blind index.
//!
//! One 32-byte master key, kept outside the database (a key file created
//! with mode 0600, or `WANGGE_KEY`), yields two subkeys by HKDF-SHA256: one
//! for XChaCha20-Poly1305 (random 24-byte nonces), one for the HMAC-SHA256
//! blind index that finds an ID number without decrypting every row. The
//! field name is bound into both, so a ciphertext or index of one field is
//! useless as another.

use std::io::Write;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Format version of a ciphertext: `1 || nonce(24) || ciphertext+tag`.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("WANGGE_KEY must be 64 hexadecimal characters (32 bytes)")]
    BadEnvKey,
    #[error("a stored secret cannot be decrypted with this key (wrong key file?)")]
    Undecryptable,
    #[error("the system random generator failed: {0}")]
    Random(String),
}

/// The keys for sensitive fields.
pub struct Vault {
    aead: XChaCha20Poly1305,
    blind_key: [u8; 32],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N], VaultError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| VaultError::Random(e.to_string()))?;
    Ok(b)
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s.trim(), &mut out).ok()?;
    Some(out)
}

impl Vault {
    pub fn from_master_key(master: &[u8; 32]) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(b"wangge"), master);
        let mut enc = [0u8; 32];
        let mut blind_key = [0u8; 32];
        // Both lengths are valid for SHA-256 HKDF (at most 255 × 32 bytes).
        let _ = hk.expand(b"wangge field encryption v1", &mut enc);
        let _ = hk.expand(b"wangge blind index v1", &mut blind_key);
        Self {
            aead: XChaCha20Poly1305::new(&Key::from(enc)),
            blind_key,
        }
    }

    /// The key from `WANGGE_KEY` (64 hex characters) if given, else from the
    /// key file, which is created (mode 0600) with a new random key when
    /// missing.
    pub fn load(env_key: Option<&str>, path: &Path) -> Result<Self, VaultError> {
        if let Some(k) = env_key.filter(|k| !k.trim().is_empty()) {
            return unhex(k)
                .map(|m| Self::from_master_key(&m))
                .ok_or(VaultError::BadEnvKey);
        }
        let err = |reason: String| VaultError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => unhex(&text)
                .map(|m| Self::from_master_key(&m))
                .ok_or_else(|| err("must hold 64 hexadecimal characters".into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let master = random_bytes::<32>()?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                let mut file = options.open(path).map_err(|e| err(e.to_string()))?;
                writeln!(file, "{}", hex::encode(master)).map_err(|e| err(e.to_string()))?;
                file.sync_all().map_err(|e| err(e.to_string()))?;
                tracing::warn!(
                    path = %path.display(),
                    "created a new encryption key file: back it up, without it the ID and phone numbers cannot be read"
                );
                Ok(Self::from_master_key(&master))
            }
            Err(e) => Err(err(e.to_string())),
        }
    }

    /// Encrypts `plaintext` of `field` (e.g. `resident.id_number`).
    pub fn encrypt(&self, field: &str, plaintext: &str) -> Result<Vec<u8>, VaultError> {
        let nonce = random_bytes::<NONCE_LEN>()?;
        let sealed = self
            .aead
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: field.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Undecryptable)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn decrypt(&self, field: &str, blob: &[u8]) -> Result<String, VaultError> {
        if blob.len() < 1 + NONCE_LEN || blob[0] != VERSION {
            return Err(VaultError::Undecryptable);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&blob[1..1 + NONCE_LEN]);
        let plain = self
            .aead
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &blob[1 + NONCE_LEN..],
                    aad: field.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| VaultError::Undecryptable)
    }

    /// The keyed blind index of a normalized value of `field`.
    pub fn blind_index(&self, field: &str, value: &str) -> Vec<u8> {
        // HMAC accepts keys of any length.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.blind_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(field.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_bound_to_field_and_key() {
        let v = Vault::from_master_key(&[7; 32]);
        let c = v
            .encrypt("resident.id_number", "11010519491231002X")
            .unwrap();
        assert!(!c.windows(18).any(|w| w == b"11010519491231002X"));
        assert_eq!(
            v.decrypt("resident.id_number", &c).unwrap(),
            "11010519491231002X"
        );
        // Another field or key cannot open it.
        assert!(v.decrypt("resident.phone", &c).is_err());
        assert!(
            Vault::from_master_key(&[8; 32])
                .decrypt("resident.id_number", &c)
                .is_err()
        );
        // Fresh nonce each time.
        assert_ne!(
            c,
            v.encrypt("resident.id_number", "11010519491231002X")
                .unwrap()
        );
    }

    #[test]
    fn blind_index_is_keyed_and_stable() {
        let v = Vault::from_master_key(&[7; 32]);
        let a = v.blind_index("resident.id_number", "11010519491231002X");
        assert_eq!(a, v.blind_index("resident.id_number", "11010519491231002X"));
        assert_ne!(
            a,
            Vault::from_master_key(&[8; 32])
                .blind_index("resident.id_number", "11010519491231002X")
        );
        assert_ne!(a, v.blind_index("resident.phone", "11010519491231002X"));
    }

    #[test]
    fn the_key_file_is_created_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("wangge-vault-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("wangge.key");
        let _ = std::fs::remove_file(&path);
        let v1 = Vault::load(None, &path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let c = v1.encrypt("f", "secret").unwrap();
        let v2 = Vault::load(None, &path).unwrap();
        assert_eq!(v2.decrypt("f", &c).unwrap(), "secret");
        assert!(matches!(
            Vault::load(Some("abc"), &path),
            Err(VaultError::BadEnvKey)
        ));
        let from_env = Vault::load(Some(&"11".repeat(32)), &path).unwrap();
        assert!(from_env.decrypt("f", &c).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
