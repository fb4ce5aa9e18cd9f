//! What an operator configures for a DVCQG agency, and its validation.

use std::fmt;

use serde::Deserialize;

use crate::checks::{check_unit_code, check_url};
use crate::secret::{self, SecretProblem};

/// Connection settings of a DVCQG agency (`[agencies.<id>]` with `kind = "dvcqg"`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DvcqgConfig {
    /// Base URL of the DVCQG API, such as `https://api.dichvucong.gov.vn`; the
    /// call paths (`/api/auth/login`, `/api/hoso/...`) are appended to it.
    pub url: String,
    /// The account the gateway logs in with.
    pub username: String,
    /// The account's password, written in the file. Set exactly one of `password`
    /// and `password_env`; prefer `password_env` outside development.
    #[serde(default)]
    pub password: Option<String>,
    /// The name of an environment variable holding the password, read at each
    /// login. Set exactly one of `password` and `password_env`.
    #[serde(default)]
    pub password_env: Option<String>,
    /// The gateway's unit code at DVCQG (`madonvi`), such as `000.00.00.G22`.
    pub unit_code: String,
}

impl fmt::Debug for DvcqgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DvcqgConfig")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &secret::masked(&self.password))
            .field("password_env", &self.password_env)
            .field("unit_code", &self.unit_code)
            .finish()
    }
}

/// One problem with a [`DvcqgConfig`]; the message starts with the field it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DvcqgConfigError {
    /// `url` is not an absolute http(s) URL without credentials, query or fragment.
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
    /// The variable `password_env` names is unset or empty (found at login).
    #[error("password_env: environment variable {0} is not set")]
    PasswordEnvUnset(String),
    /// `unit_code` is not a unit code.
    #[error("unit_code: {0}")]
    UnitCode(&'static str),
}

impl DvcqgConfig {
    /// Every problem that can be found without I/O (the environment variable is
    /// read only at login). Empty means valid.
    pub fn validate(&self) -> Vec<DvcqgConfigError> {
        let mut errs = Vec::new();
        if let Err(e) = check_url(&self.url) {
            errs.push(DvcqgConfigError::Url(e));
        }
        if self.username.trim().is_empty() {
            errs.push(DvcqgConfigError::EmptyUsername);
        }
        errs.extend(secret::check(&self.password, &self.password_env).map(DvcqgConfigError::from));
        if let Err(e) = check_unit_code(&self.unit_code) {
            errs.push(DvcqgConfigError::UnitCode(e));
        }
        errs
    }

    /// The password, from the file or from the environment.
    pub fn password(&self) -> Result<String, DvcqgConfigError> {
        secret::resolve(&self.password, &self.password_env).map_err(DvcqgConfigError::from)
    }
}

impl From<SecretProblem> for DvcqgConfigError {
    fn from(problem: SecretProblem) -> Self {
        match problem {
            SecretProblem::Source => Self::PasswordSource,
            SecretProblem::Empty => Self::EmptyPassword,
            SecretProblem::EnvName => Self::PasswordEnvName,
            SecretProblem::EnvUnset(var) => Self::PasswordEnvUnset(var),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> DvcqgConfig {
        DvcqgConfig {
            url: "https://api.dichvucong.gov.vn".into(),
            username: "lienthong".into(),
            password: Some("secret".into()),
            password_env: None,
            unit_code: "000.00.00.G22".into(),
        }
    }

    #[test]
    fn a_good_config_is_valid() {
        assert_eq!(good().validate(), vec![]);
        let env = DvcqgConfig { password: None, password_env: Some("X".into()), ..good() };
        assert_eq!(env.validate(), vec![]);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let bad = DvcqgConfig {
            url: "ftp://x".into(),
            username: " ".into(),
            password: Some("p".into()),
            password_env: Some("P".into()),
            unit_code: "bad code".into(),
        };
        let got: Vec<String> = bad.validate().iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            vec![
                "url: scheme must be http or https",
                "username: must not be empty",
                "password: set exactly one of password and password_env",
                "unit_code: may hold only letters, digits, '.' and '-'",
            ]
        );
        let neither = DvcqgConfig { password: None, ..good() };
        assert_eq!(neither.validate(), vec![DvcqgConfigError::PasswordSource]);
        for url in ["not a url", "http://u:p@host", "http://host/?q=1", "http://host/#f"] {
            assert_eq!(DvcqgConfig { url: url.into(), ..good() }.validate().len(), 1, "{url}");
        }
    }

    #[test]
    fn password_comes_from_the_file_or_the_environment() {
        assert_eq!(good().password().unwrap(), "secret");
        let missing =
            DvcqgConfig { password: None, password_env: Some("LIENTHONG_TEST_SURELY_UNSET_VARIABLE".into()), ..good() };
        let e = missing.password().unwrap_err();
        assert_eq!(e.to_string(), "password_env: environment variable LIENTHONG_TEST_SURELY_UNSET_VARIABLE is not set");
    }

    #[test]
    fn unknown_fields_are_refused_and_debug_masks_the_password() {
        let text = r#"{"url":"http://h","username":"u","password":"p","unit_code":"X","extra":1}"#;
        assert!(serde_json::from_str::<DvcqgConfig>(text).is_err());
        assert!(!format!("{:?}", good()).contains("secret"));
    }

    #[test]
    fn works_inside_an_internally_tagged_enum() {
        #[derive(Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        enum Agency {
            Dvcqg(DvcqgConfig),
        }
        let text = r#"{"kind":"dvcqg","url":"http://h","username":"u","password_env":"P","unit_code":"X"}"#;
        let Agency::Dvcqg(c) = serde_json::from_str(text).unwrap();
        assert_eq!(c.password_env.as_deref(), Some("P"));
    }
}
