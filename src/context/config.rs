//! Typed configuration, read once from the environment (the names are in the README's
//! Configuration table) and passed down. Every setting has a default that gives the zero-setup
//! embedded deployment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::auth::LoginLimits;
use crate::auth::throttle::Budget;
use crate::domain::Phone;
use crate::domain::field::verification::Thresholds;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{key}: {message}")]
    Invalid { key: &'static str, message: String },
    #[error("cannot use the JWT secret file {path}: {source}")]
    SecretFile { path: PathBuf, source: std::io::Error },
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key, message: message.into() }
}

/// The first admin, created on an empty database.
#[derive(Debug, Clone)]
pub struct BootstrapAdmin {
    pub phone: Phone,
    pub password: SecretString,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind: String,
    pub data_dir: PathBuf,
    pub jwt_secret: SecretString,
    pub bootstrap_admin: Option<BootstrapAdmin>,
    pub public_url: String,
    pub login_limits: LoginLimits,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub json_body_limit: usize,
    /// How long a client may take to send a whole request body (JSON or an upload).
    pub body_timeout: Duration,
    /// Argon2 hashes allowed at once (each holds ~19 MiB and a core).
    pub hash_concurrency: usize,
    /// HTTP worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// The limits behind a visit's verified / not verified verdict.
    pub verification: Thresholds,
    /// Photo upload limits: bytes, pixels, stored size.
    pub photo_limits: crate::media::IntakeLimits,
    /// Public registration: per event (`per_account`) and per client address.
    pub registration_limits: LoginLimits,
    /// The map page's tile URL template (`{z}`, `{x}`, `{y}`, optional `{s}`); none: no tiles.
    pub map_tile_url: Option<String>,
    /// The datum of those tiles: `wgs84` or `gcj02` (AMap-style); the page asks the API in it.
    pub map_tile_datum: crate::geo::Datum,
    /// Browser origins allowed to call the API cross-origin (`OUTREACH_CORS_ORIGINS`, comma
    /// separated). None by default: the phone app is not a browser and the map page is same-origin.
    pub cors_origins: Vec<String>,
    /// The font the showcase card is drawn with (`OUTREACH_SHOWCASE_FONT`: a TTF, OTF or TTC
    /// with CJK glyphs); none: the WenQuanYi Micro Hei built into the binary.
    pub showcase_font: Option<PathBuf>,
    /// The privacy notice of the public registration pages (`OUTREACH_PRIVACY_NOTICE`), with
    /// `{organiser}`, `{branch}`, `{contact_phone}` and `{retention_days}` filled in per event;
    /// none: the default, which states purpose, retention and the right to withdraw.
    pub privacy_notice: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`OUTREACH_TRUSTED_PROXIES`,
    /// comma-separated addresses or CIDRs). None by default: the peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// A source of configuration values; the process environment in production, a map in tests.
pub trait Source {
    fn get(&self, key: &str) -> Option<String>;
}

pub struct Environment;

impl Source for Environment {
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
}

impl<S: std::hash::BuildHasher> Source for std::collections::HashMap<String, String, S> {
    fn get(&self, key: &str) -> Option<String> {
        self.get(key).cloned()
    }
}

fn number<T: std::str::FromStr>(source: &dyn Source, key: &'static str, default: T) -> Result<T, ConfigError> {
    match source.get(key) {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|_| invalid(key, format!("`{raw}` is not a valid number"))),
    }
}

impl Settings {
    pub fn from_env() -> Result<Settings, ConfigError> {
        Settings::load(&Environment)
    }

    pub fn load(source: &dyn Source) -> Result<Settings, ConfigError> {
        let data_dir = PathBuf::from(source.get("OUTREACH_DATA_DIR").unwrap_or_else(|| "./data".to_owned()));
        let database_url =
            source.get("DATABASE_URL").unwrap_or_else(|| data_dir.join("outreach.db").to_string_lossy().into_owned());
        let bind = source.get("OUTREACH_BIND").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let public_url = source
            .get("OUTREACH_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(invalid("OUTREACH_PUBLIC_URL", "must start with http:// or https://"));
        }
        let bootstrap_admin = source.get("OUTREACH_BOOTSTRAP_ADMIN").map(|raw| parse_bootstrap(&raw)).transpose()?;
        let jwt_secret = match source.get("OUTREACH_JWT_SECRET") {
            Some(secret) if secret.len() < 32 => {
                return Err(invalid("OUTREACH_JWT_SECRET", "must be at least 32 characters"));
            }
            Some(secret) => SecretString::from(secret),
            None => secret_from_data_dir(&data_dir)?,
        };
        let login_limits = LoginLimits {
            per_account: Budget {
                burst: number(source, "OUTREACH_LOGIN_ACCOUNT_BURST", LoginLimits::default().per_account.burst)?,
                per_minute: number(
                    source,
                    "OUTREACH_LOGIN_ACCOUNT_PER_MINUTE",
                    LoginLimits::default().per_account.per_minute,
                )?,
            },
            per_ip: Budget {
                burst: number(source, "OUTREACH_LOGIN_IP_BURST", LoginLimits::default().per_ip.burst)?,
                per_minute: number(source, "OUTREACH_LOGIN_IP_PER_MINUTE", LoginLimits::default().per_ip.per_minute)?,
            },
        };
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let d = Thresholds::default();
        let verification = Thresholds {
            max_accuracy_m: number(source, "OUTREACH_VERIFY_MAX_ACCURACY_M", d.max_accuracy_m)?,
            max_speed_kmh: number(source, "OUTREACH_VERIFY_MAX_SPEED_KMH", d.max_speed_kmh)?,
            future_tolerance_s: number(source, "OUTREACH_VERIFY_FUTURE_TOLERANCE_S", d.future_tolerance_s)?,
            max_location_age_s: number(source, "OUTREACH_VERIFY_MAX_LOCATION_AGE_S", d.max_location_age_s)?,
            photo_max_distance_m: number(source, "OUTREACH_VERIFY_PHOTO_MAX_DISTANCE_M", d.photo_max_distance_m)?,
            photo_max_time_diff_s: number(source, "OUTREACH_VERIFY_PHOTO_MAX_TIME_DIFF_S", d.photo_max_time_diff_s)?,
            max_entry_delay_s: match number::<i64>(
                source,
                "OUTREACH_VERIFY_LATE_ENTRY_HOURS",
                d.max_entry_delay_s / 3600,
            )? {
                hours @ 1..=8760 => hours * 3600,
                _ => return Err(invalid("OUTREACH_VERIFY_LATE_ENTRY_HOURS", "must be 1 to 8760 hours")),
            },
            confirm_conversions_above_fen: match number::<i64>(
                source,
                "OUTREACH_CONFIRM_CONVERSIONS_ABOVE_YUAN",
                d.confirm_conversions_above_fen / 100,
            )? {
                yuan @ 0..=10_000_000_000 => yuan * 100,
                _ => return Err(invalid("OUTREACH_CONFIRM_CONVERSIONS_ABOVE_YUAN", "must be 0 to 10000000000 yuan")),
            },
        };
        Ok(Settings {
            database_url,
            bind,
            data_dir,
            jwt_secret,
            bootstrap_admin,
            public_url,
            login_limits,
            access_token_ttl: Duration::from_secs(number(source, "OUTREACH_ACCESS_TOKEN_TTL_SECS", 15 * 60)?),
            refresh_token_ttl: Duration::from_secs(number(source, "OUTREACH_REFRESH_TOKEN_TTL_SECS", 30 * 24 * 3600)?),
            json_body_limit: number(source, "OUTREACH_JSON_LIMIT_BYTES", 1024 * 1024)?,
            body_timeout: Duration::from_secs(number(source, "OUTREACH_BODY_TIMEOUT_SECS", 120)?.max(1)),
            hash_concurrency: number(source, "OUTREACH_HASH_CONCURRENCY", cores)?,
            verification,
            photo_limits: crate::media::IntakeLimits {
                max_bytes: number(source, "OUTREACH_PHOTO_MAX_BYTES", crate::media::IntakeLimits::default().max_bytes)?,
                max_pixels: number(
                    source,
                    "OUTREACH_PHOTO_MAX_PIXELS",
                    crate::media::IntakeLimits::default().max_pixels,
                )?,
                ..crate::media::IntakeLimits::default()
            },
            registration_limits: LoginLimits {
                per_account: Budget {
                    burst: number(source, "OUTREACH_REGISTER_EVENT_BURST", 5000)?,
                    per_minute: number(source, "OUTREACH_REGISTER_EVENT_PER_MINUTE", 5000)?,
                },
                // A room of 150 people on one Wi-Fi, each tapping twice, stays well inside.
                per_ip: Budget {
                    burst: number(source, "OUTREACH_REGISTER_IP_BURST", 400)?,
                    per_minute: number(source, "OUTREACH_REGISTER_IP_PER_MINUTE", 400)?,
                },
            },
            workers: source.get("OUTREACH_WORKERS").map(|_| number(source, "OUTREACH_WORKERS", cores)).transpose()?,
            map_tile_url: source.get("OUTREACH_MAP_TILE_URL").map(|url| tile_url(&url)).transpose()?,
            map_tile_datum: match source.get("OUTREACH_MAP_TILE_DATUM").as_deref().map(str::trim) {
                None | Some("wgs84") => crate::geo::Datum::Wgs84,
                Some("gcj02") => crate::geo::Datum::Gcj02,
                Some(other) => {
                    return Err(invalid("OUTREACH_MAP_TILE_DATUM", format!("`{other}`: expected wgs84 or gcj02")));
                }
            },
            cors_origins: source
                .get("OUTREACH_CORS_ORIGINS")
                .map(|raw| cors_origins(&raw))
                .transpose()?
                .unwrap_or_default(),
            showcase_font: source.get("OUTREACH_SHOWCASE_FONT").map(|p| PathBuf::from(p.trim())),
            privacy_notice: source.get("OUTREACH_PRIVACY_NOTICE").map(|text| privacy_notice(&text)).transpose()?,
            trusted_proxies: source
                .get("OUTREACH_TRUSTED_PROXIES")
                .map(|raw| trusted_proxies(&raw))
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

/// Addresses (`10.0.0.5`) or networks (`10.0.0.0/8`, `::1/128`), comma separated.
fn trusted_proxies(raw: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|entry| {
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| invalid("OUTREACH_TRUSTED_PROXIES", format!("`{entry}` is not an address or a CIDR")))
        })
        .collect()
}

/// A privacy notice: visible text of at most 2,000 characters.
fn privacy_notice(raw: &str) -> Result<String, ConfigError> {
    let text = raw.trim();
    if text.chars().count() > 2000 || text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t')) {
        return Err(invalid("OUTREACH_PRIVACY_NOTICE", "must be text of at most 2000 characters".to_owned()));
    }
    Ok(text.to_owned())
}

/// A tile URL template: http(s) or a path on this server, with `{z}`, `{x}` and `{y}`.
fn tile_url(raw: &str) -> Result<String, ConfigError> {
    const KEY: &str = "OUTREACH_MAP_TILE_URL";
    let url = raw.trim();
    if !(url.starts_with("https://") || url.starts_with("http://") || (url.starts_with('/') && !url.starts_with("//")))
    {
        return Err(invalid(KEY, "must start with https://, http:// or / (a path on this server)"));
    }
    if let Some(missing) = ["{z}", "{x}", "{y}"].into_iter().find(|p| !url.contains(p)) {
        return Err(invalid(KEY, format!("must contain {missing}")));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | ';')) {
        return Err(invalid(KEY, "must not contain spaces, quotes, `<`, `>` or `;`"));
    }
    Ok(url.to_owned())
}

/// An allowlist of exact origins (`https://crm.bank.cn`, `http://localhost:5173`): no wildcard,
/// no path, because a pattern that matches too much hands the API to any page that matches.
fn cors_origins(raw: &str) -> Result<Vec<String>, ConfigError> {
    const KEY: &str = "OUTREACH_CORS_ORIGINS";
    let mut origins = Vec::new();
    for origin in raw.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let host = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
        let valid = host.is_some_and(|host| {
            !host.is_empty()
                && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        });
        if !valid {
            return Err(invalid(KEY, format!("`{origin}` is not an origin like https://host[:port] (no path, no *)")));
        }
        origins.push(origin.to_ascii_lowercase());
    }
    Ok(origins)
}

fn parse_bootstrap(raw: &str) -> Result<BootstrapAdmin, ConfigError> {
    const KEY: &str = "OUTREACH_BOOTSTRAP_ADMIN";
    let (phone, password) = raw.split_once(':').ok_or_else(|| invalid(KEY, "expected phone:password"))?;
    let phone = Phone::parse(phone).map_err(|e| invalid(KEY, e.to_string()))?;
    crate::domain::common::password::NewPassword::parse(password.to_owned())
        .map_err(|e| invalid(KEY, format!("password {e}")))?;
    Ok(BootstrapAdmin { phone, password: SecretString::from(password.to_owned()) })
}

/// Reads the generated secret, or makes one (64 random bytes, hex) readable by the owner only,
/// so tokens stay valid across restarts without anyone having to configure a secret.
fn secret_from_data_dir(dir: &Path) -> Result<SecretString, ConfigError> {
    let path = dir.join("jwt_secret");
    let io = |source| ConfigError::SecretFile { path: path.clone(), source };
    match std::fs::read_to_string(&path) {
        Ok(secret) if secret.trim().len() >= 32 => return Ok(SecretString::from(secret.trim().to_owned())),
        Ok(_) => return Err(io(std::io::Error::other("file holds fewer than 32 characters"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut bytes = [0u8; 64];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, &secret).map_err(io)?;
    tracing::info!(path = %path.display(), "generated a JWT secret");
    Ok(SecretString::from(secret))
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(content.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}

impl Settings {
    pub fn jwt_secret_bytes(&self) -> &[u8] {
        self.jwt_secret.expose_secret().as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn a_generated_secret_is_private_and_kept() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let env = HashMap::from([("OUTREACH_DATA_DIR".to_owned(), dir.path().to_string_lossy().into_owned())]);
        let first = Settings::load(&env)?;
        let second = Settings::load(&env)?;
        assert_eq!(first.jwt_secret.expose_secret(), second.jwt_secret.expose_secret());
        assert_eq!(first.jwt_secret.expose_secret().len(), 128);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("jwt_secret"))?.permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(first.bind, "127.0.0.1:8080");
        assert_eq!(first.public_url, "http://127.0.0.1:8080");
        assert!(first.database_url.ends_with("outreach.db"));
        Ok(())
    }

    #[test]
    fn bad_values_are_named() {
        let env = HashMap::from([("OUTREACH_JWT_SECRET".to_owned(), "short".to_owned())]);
        let err = Settings::load(&env).map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(err, Err("OUTREACH_JWT_SECRET: must be at least 32 characters".to_owned()));
        let env = HashMap::from([("OUTREACH_BOOTSTRAP_ADMIN".to_owned(), "13800000000:short".to_owned())]);
        assert!(Settings::load(&env).is_err());
        let secret = ("OUTREACH_JWT_SECRET".to_owned(), "x".repeat(32));
        let env =
            HashMap::from([secret.clone(), ("OUTREACH_MAP_TILE_URL".to_owned(), "https://t.cn/{z}/{x}".to_owned())]);
        let err = Settings::load(&env).map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(err, Err("OUTREACH_MAP_TILE_URL: must contain {y}".to_owned()));
        let env = HashMap::from([secret.clone(), ("OUTREACH_MAP_TILE_DATUM".to_owned(), "bd09".to_owned())]);
        assert!(Settings::load(&env).is_err());
        for bad in ["*", "https://*.bank.cn", "https://crm.bank.cn/", "crm.bank.cn", "ftp://x", "https://a b"] {
            let env = HashMap::from([secret.clone(), ("OUTREACH_CORS_ORIGINS".to_owned(), bad.to_owned())]);
            assert!(Settings::load(&env).is_err(), "{bad}");
        }
        let env = HashMap::from([
            secret,
            ("OUTREACH_CORS_ORIGINS".to_owned(), " https://CRM.bank.cn , http://localhost:5173,".to_owned()),
        ]);
        let origins = Settings::load(&env).map(|s| s.cors_origins).map_err(|e| e.to_string());
        assert_eq!(origins, Ok(vec!["https://crm.bank.cn".to_owned(), "http://localhost:5173".to_owned()]));
    }
}
