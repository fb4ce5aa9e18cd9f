//! The OAuth2 access token (client credentials, RFC 6749 §4.4): fetched lazily,
//! cached until shortly before it expires, one fetch at a time, shared by every call.

use std::fmt;
use std::time::Duration;

use http::header::{ACCEPT, CONTENT_TYPE};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::encode::{form_urlencode, token_form};
use super::transport::send;
use super::wire::{OAuthError, TokenAnswer};
use super::{MoitConfig, MoitError};
use crate::AgencyClient;

/// The longest a token is renewed ahead of its expiry.
const MAX_RENEW_AHEAD: Duration = Duration::from_secs(30);

/// The cached token and the last failure to get one.
#[derive(Default)]
pub(crate) struct Tokens {
    state: Mutex<State>,
}

impl fmt::Debug for Tokens {
    // Never shows the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    token: Option<Cached>,
    failure: Option<(Instant, MoitError)>,
}

struct Cached {
    value: String,
    /// When to fetch a new one; `None` when MOIT gave no lifetime (kept until refused).
    renew_at: Option<Instant>,
}

impl Tokens {
    /// The current token, fetching one first when there is none or it is about to
    /// expire. Callers queue behind a fetch in progress; if it fails they share its
    /// error rather than each trying (and perhaps timing out) again.
    pub(crate) async fn get(&self, http: &AgencyClient, config: &MoitConfig) -> Result<String, MoitError> {
        let asked = Instant::now();
        let mut state = self.state.lock().await;
        if let Some(t) = &state.token {
            if t.renew_at.is_none_or(|at| Instant::now() < at) {
                return Ok(t.value.clone());
            }
        }
        if let Some((at, e)) = &state.failure {
            if *at >= asked {
                return Err(e.clone());
            }
        }
        let started = Instant::now();
        match fetch(http, config).await {
            Ok(answer) => {
                // A lifetime too long to add to the clock is kept until refused.
                let renew_at = answer.expires_in.and_then(|s| started.checked_add(renew_after(Duration::from_secs(s))));
                state.token = Some(Cached { value: answer.access_token.clone(), renew_at });
                state.failure = None;
                Ok(answer.access_token)
            }
            Err(e) => {
                state.token = None;
                state.failure = Some((Instant::now(), e.clone()));
                Err(e)
            }
        }
    }

    /// Forgets `stale` if it is still the current token (a concurrent caller may
    /// already have replaced it).
    pub(crate) async fn invalidate(&self, stale: &str) {
        let mut state = self.state.lock().await;
        if state.token.as_ref().is_some_and(|t| t.value == stale) {
            state.token = None;
        }
    }
}

/// How long after the request a token of `lifetime` is used: all of it but a
/// tenth, at most [`MAX_RENEW_AHEAD`], so that no call carries a token about to lapse.
pub(crate) fn renew_after(lifetime: Duration) -> Duration {
    lifetime - (lifetime / 10).min(MAX_RENEW_AHEAD)
}

async fn fetch(http: &AgencyClient, config: &MoitConfig) -> Result<TokenAnswer, MoitError> {
    const CALL: &str = "token";
    let secret = config.client_secret()?;
    let request = http
        .post(&config.token_endpoint())
        .basic_auth(&form_urlencode(&config.client_id), &form_urlencode(&secret))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "application/json")
        .body(token_form(&config.scope));
    let (status, body) = send(request, CALL).await?;
    match status {
        200..=299 => {
            let answer: TokenAnswer =
                serde_json::from_slice(&body).map_err(|_| MoitError::UnexpectedAnswer { call: CALL })?;
            let usable = answer.token_type.eq_ignore_ascii_case("bearer")
                && !answer.access_token.is_empty()
                && answer.access_token.bytes().all(|b| b.is_ascii_graphic());
            if !usable {
                return Err(MoitError::UnexpectedAnswer { call: CALL });
            }
            tracing::debug!(expires_in = answer.expires_in, "moit issued an access token");
            Ok(answer)
        }
        400 | 401 | 403 => {
            let error = match serde_json::from_slice::<OAuthError>(&body) {
                Ok(e) if is_error_code(&e.error) => e.error,
                _ if status == 400 => return Err(MoitError::Http { call: CALL, status, code: None }),
                _ => format!("http {status}"),
            };
            tracing::error!(error, "moit refused the token request; check client_id, client_secret and scope");
            Err(MoitError::LoginRefused { error })
        }
        _ => Err(MoitError::Http { call: CALL, status, code: None }),
    }
}

/// An RFC 6749 error code: short, printable, without quotes or backslashes.
fn is_error_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_a_tenth_early_but_at_most_thirty_seconds() {
        assert_eq!(renew_after(Duration::from_secs(3600)), Duration::from_secs(3570));
        assert_eq!(renew_after(Duration::from_secs(60)), Duration::from_secs(54));
        assert_eq!(renew_after(Duration::from_secs(1)), Duration::from_millis(900));
        assert_eq!(renew_after(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn error_codes_are_checked_before_they_reach_a_reason() {
        assert!(is_error_code("invalid_client"));
        assert!(!is_error_code(""));
        assert!(!is_error_code("two words"));
        assert!(!is_error_code(&"x".repeat(65)));
    }
}
