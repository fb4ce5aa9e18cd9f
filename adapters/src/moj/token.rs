//! The bearer token: one login at a time, shared by every call of both services.
//!
//! A token is kept until the ministry refuses it (HTTP 401, or `status` 0 with
//! `AUTH-01`/`AUTH-02`); `expiresIn` is not trusted for proactive renewal, since
//! clocks and lifetimes differ between deployments and a stale token costs one
//! round-trip. A static token from the configuration is sent as it is and never renewed.

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::config::Credentials;
use super::decode::{error_code, parse_answer};
use super::transport::post;
use super::wire::{code, TokenRequest, TokenValue, STATUS_OK, TOKEN_PATH};
use super::{MojConfig, MojError};
use crate::AgencyClient;

/// The cached token and the last login failure.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    token: Option<String>,
    failure: Option<(Instant, MojError)>,
}

impl Tokens {
    /// The current token, logging in first when there is none. Callers queue
    /// behind a login in progress; if it fails they share its error rather than
    /// each trying (and perhaps timing out) again.
    pub(crate) async fn get(&self, http: &AgencyClient, config: &MojConfig) -> Result<String, MojError> {
        let (username, password) = match config.credentials()? {
            Credentials::Static(token) => return Ok(token),
            Credentials::Login { username, password } => (username, password),
        };
        let asked = Instant::now();
        let mut state = self.state.lock().await;
        if let Some(t) = &state.token {
            return Ok(t.clone());
        }
        if let Some((at, e)) = &state.failure {
            if *at >= asked {
                return Err(e.clone());
            }
        }
        match login(http, config, TokenRequest { username, password }).await {
            Ok(t) => {
                state.token = Some(t.clone());
                state.failure = None;
                Ok(t)
            }
            Err(e) => {
                state.failure = Some((Instant::now(), e.clone()));
                Err(e)
            }
        }
    }

    /// Forgets `stale` if it is still the current token (a concurrent caller may
    /// already have replaced it). Returns whether a new login can help: not with a
    /// static token.
    pub(crate) async fn invalidate(&self, config: &MojConfig, stale: &str) -> bool {
        if matches!(config.credentials(), Ok(Credentials::Static(_)) | Err(_)) {
            return false;
        }
        let mut state = self.state.lock().await;
        if state.token.as_deref() == Some(stale) {
            state.token = None;
        }
        true
    }
}

/// Joins the base URL and a call path.
pub(crate) fn endpoint(config: &MojConfig, path: &str) -> String {
    format!("{}{path}", config.url.trim_end_matches('/'))
}

async fn login(http: &AgencyClient, config: &MojConfig, request: TokenRequest) -> Result<String, MojError> {
    const CALL: &str = "auth/token";
    let body = serde_json::to_vec(&request).map_err(|_| MojError::UnexpectedAnswer { call: CALL })?;
    let (status, answer) = post(http, &endpoint(config, TOKEN_PATH), CALL, &[], body).await?;
    if status == 401 || status == 403 {
        tracing::error!(status, "moj refused the login; check the configured username and password");
        return Err(MojError::LoginRefused { code: format!("http {status}") });
    }
    if !(200..300).contains(&status) {
        return Err(MojError::Http { call: CALL, status });
    }
    let answer = parse_answer(&answer).ok_or(MojError::UnexpectedAnswer { call: CALL })?;
    if answer.status == STATUS_OK {
        let value = answer.value.and_then(|v| serde_json::from_value::<TokenValue>(v).ok());
        return match value {
            Some(v) if !v.token.trim().is_empty() => {
                tracing::debug!(expires_in = v.expires_in, "logged in to moj");
                Ok(v.token)
            }
            _ => Err(MojError::UnexpectedAnswer { call: CALL }),
        };
    }
    let code = error_code(&answer);
    if code == code::LOGIN_REFUSED {
        tracing::error!("moj refused the login; check the configured username and password");
        return Err(MojError::LoginRefused { code });
    }
    let (_, reason) = super::decode::failure_reason(&answer);
    Err(MojError::Answer { call: CALL, reason })
}
