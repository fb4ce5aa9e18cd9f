//! The simulated token endpoint: OAuth2 client credentials (RFC 6749 §4.4), the
//! client authenticated with HTTP Basic, errors as RFC 6749 §5.2.

use http::header::{CACHE_CONTROL, PRAGMA, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};

use super::codec::{base64_decode, form_decode, percent_decode};
use super::state::Agency;
use crate::moit::wire::{scope, OAuthError, TokenAnswer};
use crate::sim::{SimRequest, SimResponse};

/// The scopes the one known client may have; asking for none grants them all.
pub(super) const ALLOWED_SCOPES: [&str; 3] = [scope::SUBMIT, scope::READ, scope::LICENCE];

fn oauth_error(status: StatusCode, error: &str, description: &str) -> SimResponse {
    let body = OAuthError { error: error.to_owned(), error_description: Some(description.to_owned()) };
    let mut answer = SimResponse::json(status, &body).with_header(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        answer = answer.with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"moit\""));
    }
    answer
}

/// The client id and secret of an `Authorization: Basic` header, each form-decoded
/// (RFC 6749 §2.3.1); `None` when absent or malformed.
fn basic_credentials(request: &SimRequest) -> Option<(String, String)> {
    let header = request.header("authorization")?;
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64_decode(encoded.trim())?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((percent_decode(id, true)?, percent_decode(secret, true)?))
}

impl Agency {
    /// Answers `POST /oauth2/token`.
    pub(super) fn token(&self, request: &SimRequest) -> SimResponse {
        let answer = self.token_answer(request);
        if !answer.status.is_success() {
            self.lock().token_refused();
        }
        answer
    }

    fn token_answer(&self, request: &SimRequest) -> SimResponse {
        let form_type = request
            .header("content-type")
            .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
        let form = match form_decode(&request.body) {
            Some(f) if form_type => f,
            _ => {
                let why = "The request must be a form (application/x-www-form-urlencoded)";
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", why);
            }
        };
        match basic_credentials(request) {
            Some((id, secret)) if id == self.client.client_id && secret == self.client.client_secret => {}
            _ => return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed"),
        }
        let value = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        match value("grant_type") {
            Some("client_credentials") => {}
            Some(_) => {
                let why = "Only client_credentials is supported";
                return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", why);
            }
            None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Missing grant_type"),
        }
        let scopes: Vec<String> = match value("scope") {
            None => ALLOWED_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            Some(asked) => {
                let asked: Vec<&str> = asked.split(' ').filter(|s| !s.is_empty()).collect();
                if asked.is_empty() || asked.iter().any(|s| !ALLOWED_SCOPES.contains(s)) {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", "The requested scope is not allowed");
                }
                asked.into_iter().map(str::to_owned).collect()
            }
        };
        let granted = scopes.join(" ");
        let (access_token, expires_in) = self.lock().issue_token(scopes);
        let body = TokenAnswer {
            access_token,
            token_type: "Bearer".into(),
            expires_in: Some(expires_in),
            scope: Some(granted),
        };
        SimResponse::json(StatusCode::OK, &body)
            .with_header(CACHE_CONTROL, HeaderValue::from_static("no-store"))
            .with_header(PRAGMA, HeaderValue::from_static("no-cache"))
    }
}
