//! The DVCQG session: one login at a time, shared by every delivery.
//!
//! The session is kept until DVCQG says it is invalid (`error_code` "-1" or HTTP
//! 401); `expires_in` is not trusted for proactive renewal, since clocks and
//! lifetimes differ between deployments and a stale session costs one round-trip.

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::decode::{parse_answer, quote};
use super::transport::post;
use super::wire::{code, LOGIN_PATH};
use super::{DvcqgConfig, DvcqgError};
use crate::AgencyClient;

/// The cached session and the last login failure.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    session: Option<String>,
    failure: Option<(Instant, DvcqgError)>,
}

impl Sessions {
    /// The current session, logging in first when there is none. Callers queue
    /// behind a login in progress; if it fails they share its error rather than
    /// each trying (and perhaps timing out) again.
    pub(crate) async fn get(&self, http: &AgencyClient, config: &DvcqgConfig) -> Result<String, DvcqgError> {
        let asked = Instant::now();
        let mut state = self.state.lock().await;
        if let Some(s) = &state.session {
            return Ok(s.clone());
        }
        if let Some((at, e)) = &state.failure {
            if *at >= asked {
                return Err(e.clone());
            }
        }
        match login(http, config).await {
            Ok(s) => {
                state.session = Some(s.clone());
                state.failure = None;
                Ok(s)
            }
            Err(e) => {
                state.failure = Some((Instant::now(), e.clone()));
                Err(e)
            }
        }
    }

    /// Forgets `stale` if it is still the current session (a concurrent caller may
    /// already have replaced it).
    pub(crate) async fn invalidate(&self, stale: &str) {
        let mut state = self.state.lock().await;
        if state.session.as_deref() == Some(stale) {
            state.session = None;
        }
    }
}

/// Joins the base URL and a call path.
pub(crate) fn endpoint(config: &DvcqgConfig, path: &str) -> String {
    format!("{}{path}", config.url.trim_end_matches('/'))
}

async fn login(http: &AgencyClient, config: &DvcqgConfig) -> Result<String, DvcqgError> {
    const CALL: &str = "login";
    let body = serde_json::json!({"username": config.username, "password": config.password()?});
    let body = body.to_string().into_bytes();
    let (status, answer) = post(http, &endpoint(config, LOGIN_PATH), CALL, &[], body).await?;
    if status == 401 || status == 403 {
        tracing::error!(status, "dvcqg refused the login; check the configured username and password");
        return Err(DvcqgError::LoginRefused { code: format!("http {status}") });
    }
    if !(200..300).contains(&status) {
        return Err(DvcqgError::Http { call: CALL, status });
    }
    let answer = parse_answer(&answer).ok_or(DvcqgError::UnexpectedAnswer { call: CALL })?;
    match answer.error_code.as_str() {
        code::OK => match answer.session {
            Some(s) if !s.trim().is_empty() => {
                tracing::debug!("logged in to dvcqg");
                Ok(s)
            }
            _ => Err(DvcqgError::UnexpectedAnswer { call: CALL }),
        },
        code::LOGIN_REFUSED => {
            tracing::error!("dvcqg refused the login; check the configured username and password");
            Err(DvcqgError::LoginRefused { code: answer.error_code })
        }
        _ => Err(DvcqgError::Answer { call: CALL, code: answer.error_code, message: quote(&answer.message) }),
    }
}
