//! Bearer tokens: HS256 JWTs carrying the user, the tenant and the role.

use chrono::{DateTime, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use restock_domain::TenantId;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Shortest secret accepted: HS256 is only as strong as its key.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads and commands.
    Manager,
    /// Reads only.
    Viewer,
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "manager" => Ok(Role::Manager),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!("role must be manager or viewer, got {other:?}")),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub tenant: TenantId,
    pub role: Role,
    pub exp: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("RESTOCK_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")]
    SecretTooShort,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("secret file {path}: {source}")]
    SecretFile {
        path: String,
        source: std::io::Error,
    },
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Result<Self, TokenError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(TokenError::SecretTooShort);
        }
        // Only HS256: a token naming another algorithm (or `none`) is refused outright.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 0;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        })
    }

    pub fn issue(
        &self,
        user: &str,
        tenant: &TenantId,
        role: Role,
        expires_at: DateTime<Utc>,
    ) -> Result<String, TokenError> {
        let claims = Claims {
            sub: user.to_owned(),
            tenant: tenant.clone(),
            role,
            exp: expires_at.timestamp(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }
}

/// The secret kept in the embedded store's data directory, created on first use, so that
/// `restock serve` and `restock token` agree without any configuration.
pub fn load_or_create_secret(dir: &Path) -> Result<Vec<u8>, TokenError> {
    let path = dir.join("jwt-secret");
    let io = |source| TokenError::SecretFile {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() >= MIN_SECRET_BYTES => Ok(bytes),
        Ok(_) => Err(TokenError::SecretTooShort),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(io)?;
            let secret: String = (0..48)
                .map(|_| format!("{:02x}", rand::random::<u8>()))
                .collect();
            write_private(&path, secret.as_bytes()).map_err(io)?;
            Ok(secret.into_bytes())
        }
        Err(e) => Err(io(e)),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn keys() -> TokenKeys {
        TokenKeys::new(&[7u8; 32]).expect("valid secret")
    }

    #[test]
    fn a_token_round_trips_and_a_wrong_secret_is_refused() {
        let tenant = TenantId::parse("acme").expect("tenant");
        let token = keys()
            .issue(
                "ana",
                &tenant,
                Role::Manager,
                Utc::now() + Duration::hours(1),
            )
            .expect("issue");
        let claims = keys().verify(&token).expect("verify");
        assert_eq!((claims.tenant, claims.role), (tenant, Role::Manager));
        let other = TokenKeys::new(&[8u8; 32]).expect("valid secret");
        assert!(other.verify(&token).is_err());
    }

    #[test]
    fn expired_tokens_and_short_secrets_are_refused() {
        let tenant = TenantId::parse("acme").expect("tenant");
        let token = keys()
            .issue(
                "ana",
                &tenant,
                Role::Viewer,
                Utc::now() - Duration::seconds(5),
            )
            .expect("issue");
        assert!(keys().verify(&token).is_err());
        assert!(TokenKeys::new(b"short").is_err());
    }
}
