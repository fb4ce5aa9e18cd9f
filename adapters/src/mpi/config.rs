//! What an operator configures for the MPI agency, and its validation.

use std::fmt;
use std::net::IpAddr;

use serde::Deserialize;

use crate::secret::{self, SecretProblem};

/// Connection settings of the MPI business-registration service
/// (`[agencies.<id>]` with `kind = "mpi"`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MpiConfig {
    /// Base URL of the service, such as `https://dangkykinhdoanh.gov.vn`; the
    /// endpoint path `/dkdn/ws/DangKyDoanhNghiepService` is appended to it. Must be
    /// `https` unless the host is a loopback address (a local simulator): the
    /// password travels in every request, protected only by TLS.
    pub url: String,
    /// The account the gateway authenticates with (`wsse:Username`).
    pub username: String,
    /// The account's password, written in the file. Set exactly one of `password`
    /// and `password_env`; prefer `password_env` outside development.
    #[serde(default)]
    pub password: Option<String>,
    /// The name of an environment variable holding the password, read at each
    /// request. Set exactly one of `password` and `password_env`.
    #[serde(default)]
    pub password_env: Option<String>,
}

impl fmt::Debug for MpiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpiConfig")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &secret::masked(&self.password))
            .field("password_env", &self.password_env)
            .finish()
    }
}

/// One problem with an [`MpiConfig`]; the message starts with the field it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MpiConfigError {
    /// `url` is not an absolute https URL (http for loopback) without credentials,
    /// query or fragment.
    #[error("url: {0}")]
    Url(&'static str),
    /// `username` is empty.
    #[error("username: must not be empty")]
    EmptyUsername,
    /// Both or neither of `password` and `password_env` are set.
    #[error("password: set exactly one of password and password_env")]
    PasswordSource,
    /// `password` is empty.
    #[error("password: must not be empty")]
    EmptyPassword,
    /// `password_env` cannot name an environment variable.
    #[error("password_env: must be a non-empty name without '=' or NUL")]
    PasswordEnvName,
    /// The variable `password_env` names is unset or empty (found at send time).
    #[error("password_env: environment variable {0} is not set")]
    PasswordEnvUnset(String),
}

impl MpiConfig {
    /// Every problem that can be found without I/O (the environment variable is
    /// read only when sending). Empty means valid.
    pub fn validate(&self) -> Vec<MpiConfigError> {
        let mut errs = Vec::new();
        if let Err(e) = check_url(&self.url) {
            errs.push(MpiConfigError::Url(e));
        }
        if self.username.trim().is_empty() {
            errs.push(MpiConfigError::EmptyUsername);
        }
        errs.extend(secret::check(&self.password, &self.password_env).map(MpiConfigError::from));
        errs
    }

    /// The password, from the file or from the environment.
    pub fn password(&self) -> Result<String, MpiConfigError> {
        secret::resolve(&self.password, &self.password_env).map_err(MpiConfigError::from)
    }

    /// The service endpoint: the base URL and [`SERVICE_PATH`](super::wire::SERVICE_PATH).
    pub fn endpoint(&self) -> String {
        format!("{}{}", self.url.trim_end_matches('/'), super::wire::SERVICE_PATH)
    }
}

impl From<SecretProblem> for MpiConfigError {
    fn from(problem: SecretProblem) -> Self {
        match problem {
            SecretProblem::Source => Self::PasswordSource,
            SecretProblem::Empty => Self::EmptyPassword,
            SecretProblem::EnvName => Self::PasswordEnvName,
            SecretProblem::EnvUnset(var) => Self::PasswordEnvUnset(var),
        }
    }
}

fn check_url(url: &str) -> Result<(), &'static str> {
    let u = url::Url::parse(url).map_err(|_| "not an absolute URL")?;
    let host = match u.host_str() {
        Some(h) if !h.is_empty() => h.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase(),
        _ => return Err("must name a host"),
    };
    match u.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => return Err("must be https (http only for a loopback host): the password travels in every request"),
        _ => return Err("scheme must be https"),
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("must not carry credentials; use username and password");
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err("must not have a query or fragment");
    }
    Ok(())
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> MpiConfig {
        MpiConfig {
            url: "https://dangkykinhdoanh.gov.vn".into(),
            username: "lienthong".into(),
            password: Some("secret".into()),
            password_env: None,
        }
    }

    #[test]
    fn a_good_config_is_valid() {
        assert_eq!(good().validate(), vec![]);
        let env = MpiConfig { password: None, password_env: Some("X".into()), ..good() };
        assert_eq!(env.validate(), vec![]);
        for url in ["http://127.0.0.1:9002", "http://localhost:9002/", "http://[::1]:9002"] {
            assert_eq!(MpiConfig { url: url.into(), ..good() }.validate(), vec![], "{url}");
        }
        assert_eq!(good().endpoint(), "https://dangkykinhdoanh.gov.vn/dkdn/ws/DangKyDoanhNghiepService");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let bad = MpiConfig {
            url: "http://dangkykinhdoanh.gov.vn".into(),
            username: " ".into(),
            password: Some("p".into()),
            password_env: Some("P".into()),
        };
        let got: Vec<String> = bad.validate().iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            vec![
                "url: must be https (http only for a loopback host): the password travels in every request",
                "username: must not be empty",
                "password: set exactly one of password and password_env",
            ]
        );
        assert_eq!(MpiConfig { password: None, ..good() }.validate(), vec![MpiConfigError::PasswordSource]);
        for url in ["not a url", "ftp://h", "https://u:p@host", "https://host/?q=1", "https://host/#f"] {
            assert_eq!(MpiConfig { url: url.into(), ..good() }.validate().len(), 1, "{url}");
        }
    }

    #[test]
    fn password_comes_from_the_file_or_the_environment() {
        assert_eq!(good().password().unwrap(), "secret");
        let missing =
            MpiConfig { password: None, password_env: Some("LIENTHONG_TEST_SURELY_UNSET_MPI".into()), ..good() };
        let e = missing.password().unwrap_err();
        assert_eq!(e.to_string(), "password_env: environment variable LIENTHONG_TEST_SURELY_UNSET_MPI is not set");
    }

    #[test]
    fn unknown_fields_are_refused_and_debug_masks_the_password() {
        let text = r#"{"url":"https://h","username":"u","password":"p","unit_code":"X"}"#;
        assert!(serde_json::from_str::<MpiConfig>(text).is_err());
        assert!(!format!("{:?}", good()).contains("secret"));
    }

    #[test]
    fn works_inside_an_internally_tagged_enum() {
        #[derive(Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        enum Agency {
            Mpi(MpiConfig),
        }
        let text = r#"{"kind":"mpi","url":"https://h","username":"u","password_env":"P"}"#;
        let Agency::Mpi(c) = serde_json::from_str(text).unwrap();
        assert_eq!(c.password_env.as_deref(), Some("P"));
    }
}
