//! What an operator configures for the Industry & Trade licensing system, and its
//! validation.

use std::fmt;

use serde::Deserialize;

use crate::secret::{self, SecretProblem};

use super::wire::TOKEN_PATH;

/// Connection settings of a MOIT agency (`[agencies.<id>]` with `kind = "moit"`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoitConfig {
    /// Base URL of the MOIT licensing API, such as `https://api.dichvucong.moit.gov.vn`;
    /// the call paths (`/api/v1/ho-so`, `/api/v1/giay-phep/...`) are appended to it.
    pub url: String,
    /// The OAuth2 token endpoint. Defaults to `<url>/oauth2/token`; set it when MOIT's
    /// authorisation server runs on another host.
    #[serde(default)]
    pub token_url: Option<String>,
    /// The client id MOIT registered for the gateway (OAuth2 client credentials).
    pub client_id: String,
    /// The client secret, written in the file. Set exactly one of `client_secret` and
    /// `client_secret_env`; prefer `client_secret_env` outside development.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The name of an environment variable holding the client secret, read at each
    /// token request. Set exactly one of `client_secret` and `client_secret_env`.
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// The OAuth2 scopes asked for, separated by spaces, such as
    /// `hoso.submit hoso.read giayphep.read` (submitting dossiers, reading them back,
    /// reading licences).
    pub scope: String,
    /// MOIT takes signed messages: each submission carries the gateway's detached
    /// JWS over its exact body in `X-JWS-Signature` (needs `signatures.key`).
    #[serde(default)]
    pub sign_requests: bool,
}

impl fmt::Debug for MoitConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MoitConfig")
            .field("url", &self.url)
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &secret::masked(&self.client_secret))
            .field("client_secret_env", &self.client_secret_env)
            .field("scope", &self.scope)
            .field("sign_requests", &self.sign_requests)
            .finish()
    }
}

/// One problem with a [`MoitConfig`]; the message starts with the field it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoitConfigError {
    /// `url` is not an absolute http(s) URL without credentials, query or fragment.
    #[error("url: {0}")]
    Url(&'static str),
    /// `token_url` is not an absolute http(s) URL without credentials or fragment.
    #[error("token_url: {0}")]
    TokenUrl(&'static str),
    /// `client_id` is empty or holds control characters.
    #[error("client_id: must be non-empty text without control characters")]
    ClientId,
    /// Both or neither of `client_secret` and `client_secret_env` are set.
    #[error("client_secret: set exactly one of client_secret and client_secret_env")]
    SecretSource,
    /// `client_secret` is empty.
    #[error("client_secret: must not be empty")]
    EmptySecret,
    /// `client_secret_env` cannot name an environment variable.
    #[error("client_secret_env: must be a non-empty name without '=' or NUL")]
    SecretEnvName,
    /// The variable `client_secret_env` names is unset or empty (found at token time).
    #[error("client_secret_env: environment variable {0} is not set")]
    SecretEnvUnset(String),
    /// `scope` is not a list of RFC 6749 scope tokens separated by single spaces.
    #[error("scope: {0}")]
    Scope(&'static str),
}

impl MoitConfig {
    /// Every problem that can be found without I/O (the environment variable is
    /// read only when a token is fetched). Empty means valid.
    pub fn validate(&self) -> Vec<MoitConfigError> {
        let mut errs = Vec::new();
        if let Err(e) = check_url(&self.url, false) {
            errs.push(MoitConfigError::Url(e));
        }
        if let Some(t) = &self.token_url {
            if let Err(e) = check_url(t, true) {
                errs.push(MoitConfigError::TokenUrl(e));
            }
        }
        if self.client_id.trim().is_empty() || self.client_id.chars().any(char::is_control) {
            errs.push(MoitConfigError::ClientId);
        }
        errs.extend(secret::check(&self.client_secret, &self.client_secret_env).map(MoitConfigError::from));
        if let Err(e) = check_scope(&self.scope) {
            errs.push(MoitConfigError::Scope(e));
        }
        errs
    }

    /// The token endpoint: `token_url`, or `<url>/oauth2/token`.
    pub fn token_endpoint(&self) -> String {
        match &self.token_url {
            Some(t) => t.clone(),
            None => self.endpoint(TOKEN_PATH),
        }
    }

    /// The base URL joined with a call path.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.url.trim_end_matches('/'))
    }

    /// The client secret, from the file or from the environment.
    pub fn client_secret(&self) -> Result<String, MoitConfigError> {
        secret::resolve(&self.client_secret, &self.client_secret_env).map_err(MoitConfigError::from)
    }
}

impl From<SecretProblem> for MoitConfigError {
    fn from(problem: SecretProblem) -> Self {
        match problem {
            SecretProblem::Source => Self::SecretSource,
            SecretProblem::Empty => Self::EmptySecret,
            SecretProblem::EnvName => Self::SecretEnvName,
            SecretProblem::EnvUnset(var) => Self::SecretEnvUnset(var),
        }
    }
}

fn check_url(url: &str, query_allowed: bool) -> Result<(), &'static str> {
    let u = url::Url::parse(url).map_err(|_| "not an absolute URL")?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err("scheme must be http or https");
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("must name a host");
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("must not carry credentials; use client_id and client_secret");
    }
    if u.fragment().is_some() || (!query_allowed && u.query().is_some()) {
        return Err(if query_allowed { "must not have a fragment" } else { "must not have a query or fragment" });
    }
    Ok(())
}

/// RFC 6749 §3.3: `scope-token *( SP scope-token )`, each of `%x21 / %x23-5B / %x5D-7E`.
fn check_scope(scope: &str) -> Result<(), &'static str> {
    if scope.is_empty() {
        return Err("must name at least one scope");
    }
    for token in scope.split(' ') {
        if token.is_empty() {
            return Err("scopes must be separated by single spaces");
        }
        if !token.bytes().all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b)) {
            return Err("a scope may hold only printable ASCII other than '\"' and '\\'");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> MoitConfig {
        MoitConfig {
            url: "https://api.dichvucong.moit.gov.vn/".into(),
            token_url: None,
            client_id: "lienthong".into(),
            client_secret: Some("secret".into()),
            client_secret_env: None,
            scope: "hoso.submit hoso.read giayphep.read".into(),
            sign_requests: false,
        }
    }

    #[test]
    fn a_good_config_is_valid_and_the_token_url_defaults_to_the_base() {
        assert_eq!(good().validate(), vec![]);
        assert_eq!(good().token_endpoint(), "https://api.dichvucong.moit.gov.vn/oauth2/token");
        assert_eq!(good().endpoint("/api/v1/ho-so"), "https://api.dichvucong.moit.gov.vn/api/v1/ho-so");
        let other = MoitConfig { token_url: Some("https://sso.moit.gov.vn/token?realm=lt".into()), ..good() };
        assert_eq!(other.validate(), vec![]);
        assert_eq!(other.token_endpoint(), "https://sso.moit.gov.vn/token?realm=lt");
        let env = MoitConfig { client_secret: None, client_secret_env: Some("X".into()), ..good() };
        assert_eq!(env.validate(), vec![]);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let bad = MoitConfig {
            url: "ftp://x".into(),
            token_url: Some("http://h/#f".into()),
            client_id: " ".into(),
            client_secret: Some("s".into()),
            client_secret_env: Some("S".into()),
            scope: "a  b".into(),
            sign_requests: false,
        };
        let got: Vec<String> = bad.validate().iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            vec![
                "url: scheme must be http or https",
                "token_url: must not have a fragment",
                "client_id: must be non-empty text without control characters",
                "client_secret: set exactly one of client_secret and client_secret_env",
                "scope: scopes must be separated by single spaces",
            ]
        );
        let neither = MoitConfig { client_secret: None, ..good() };
        assert_eq!(neither.validate(), vec![MoitConfigError::SecretSource]);
        let empty = MoitConfig { client_secret: Some(String::new()), ..good() };
        assert_eq!(empty.validate(), vec![MoitConfigError::EmptySecret]);
        let env = MoitConfig { client_secret: None, client_secret_env: Some("A=B".into()), ..good() };
        assert_eq!(env.validate(), vec![MoitConfigError::SecretEnvName]);
        for url in ["not a url", "http://u:p@host", "http://host/?q=1", "http://host/#f"] {
            assert_eq!(MoitConfig { url: url.into(), ..good() }.validate().len(), 1, "{url}");
        }
        for scope in ["", " a", "a\"b", "tiếng"] {
            assert_eq!(MoitConfig { scope: scope.into(), ..good() }.validate().len(), 1, "{scope:?}");
        }
    }

    #[test]
    fn the_secret_comes_from_the_file_or_the_environment() {
        assert_eq!(good().client_secret().unwrap(), "secret");
        let missing = MoitConfig {
            client_secret: None,
            client_secret_env: Some("LIENTHONG_TEST_SURELY_UNSET_MOIT_SECRET".into()),
            ..good()
        };
        assert_eq!(
            missing.client_secret().unwrap_err().to_string(),
            "client_secret_env: environment variable LIENTHONG_TEST_SURELY_UNSET_MOIT_SECRET is not set"
        );
    }

    #[test]
    fn unknown_fields_are_refused_and_debug_hides_the_secret() {
        let text = r#"{"url":"http://h","client_id":"c","client_secret":"s","scope":"x","extra":1}"#;
        assert!(serde_json::from_str::<MoitConfig>(text).is_err());
        let shown = format!("{:?}", good());
        assert!(!shown.contains("\"secret\""), "{shown}");
        assert!(shown.contains("client_secret: Some(\"***\")"), "{shown}");
    }

    #[test]
    fn works_inside_an_internally_tagged_enum() {
        #[derive(Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        enum Agency {
            Moit(MoitConfig),
        }
        let text = r#"{"kind":"moit","url":"http://h","client_id":"c","client_secret_env":"S","scope":"hoso.submit"}"#;
        let Agency::Moit(c) = serde_json::from_str(text).unwrap();
        assert_eq!(c.client_secret_env.as_deref(), Some("S"));
        assert_eq!(c.token_endpoint(), "http://h/oauth2/token");
    }
}
