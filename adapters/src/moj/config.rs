//! What an operator configures for the Ministry of Justice, and its validation.

use std::fmt;

use serde::Deserialize;

use crate::checks::{check_unit_code, check_url};
use crate::secret::{self, SecretProblem};

/// Connection settings of the Ministry of Justice (`[agencies.<id>]` with `kind = "moj"`):
/// one account for the token service, plus the judicial-records key of the province.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MojConfig {
    /// Base URL of the Justice API, such as `https://lienthong.moj.gov.vn`; the call
    /// paths (`/api/auth/token`, `/api/hotich/...`, `/api/lltp/...`) are appended to it.
    pub url: String,
    /// The account the gateway asks for tokens with. Required with `password` or
    /// `password_env`; not set with a static token.
    #[serde(default)]
    pub username: Option<String>,
    /// The account's password, written in the file. Set exactly one of `password`,
    /// `password_env`, `token` and `token_env`; prefer the `_env` forms outside development.
    #[serde(default)]
    pub password: Option<String>,
    /// The name of an environment variable holding the password, read at each login.
    #[serde(default)]
    pub password_env: Option<String>,
    /// A long-lived token issued by the ministry, sent as it is instead of logging in
    /// (no renewal is possible: a refused static token keeps dossiers queued).
    #[serde(default)]
    pub token: Option<String>,
    /// The name of an environment variable holding a static token, read at each call.
    #[serde(default)]
    pub token_env: Option<String>,
    /// The receiving civil-status unit's code (`maDonVi`), such as `000.00.31.H29`.
    pub unit_code: String,
    /// The province's two-digit code (`maTinh`) for judicial records, such as `79`.
    pub province_code: String,
    /// The province's judicial-records key (`authKey`), written in the file. Set
    /// exactly one of `auth_key` and `auth_key_env`.
    #[serde(default)]
    pub auth_key: Option<String>,
    /// The name of an environment variable holding the judicial-records key.
    #[serde(default)]
    pub auth_key_env: Option<String>,
}

impl fmt::Debug for MojConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MojConfig")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &secret::masked(&self.password))
            .field("password_env", &self.password_env)
            .field("token", &secret::masked(&self.token))
            .field("token_env", &self.token_env)
            .field("unit_code", &self.unit_code)
            .field("province_code", &self.province_code)
            .field("auth_key", &secret::masked(&self.auth_key))
            .field("auth_key_env", &self.auth_key_env)
            .finish()
    }
}

/// One problem with a [`MojConfig`]; the message starts with the field it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MojConfigError {
    /// `url` is not an absolute http(s) URL without credentials, query or fragment.
    #[error("url: {0}")]
    Url(&'static str),
    /// Not exactly one of `password`, `password_env`, `token` and `token_env` is set.
    #[error("password: set exactly one of password, password_env, token and token_env")]
    CredentialSource,
    /// `username` is missing or blank although a password is configured.
    #[error("username: must be set with password or password_env")]
    MissingUsername,
    /// `username` is set with a static token, which does not use it.
    #[error("username: not used with token or token_env; remove it")]
    UnusedUsername,
    /// A secret written in the file (`password`, `token` or `auth_key`) is empty.
    #[error("{0}: must not be empty")]
    EmptySecret(&'static str),
    /// An `_env` field cannot name an environment variable.
    #[error("{0}: must be a non-empty name without '=' or NUL")]
    EnvName(&'static str),
    /// The variable an `_env` field names is unset or empty (found at use).
    #[error("{field}: environment variable {var} is not set")]
    EnvUnset {
        /// The `_env` field.
        field: &'static str,
        /// The variable's name.
        var: String,
    },
    /// Not exactly one of `auth_key` and `auth_key_env` is set.
    #[error("auth_key: set exactly one of auth_key and auth_key_env")]
    AuthKeySource,
    /// `unit_code` is not a unit code.
    #[error("unit_code: {0}")]
    UnitCode(&'static str),
    /// `province_code` is not two digits.
    #[error("province_code: must be the province's two-digit code")]
    ProvinceCode,
}

/// How the gateway authenticates to the token service.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Log in with a username and password for a token.
    Login {
        /// The account.
        username: String,
        /// The password.
        password: String,
    },
    /// Send this token as it is.
    Static(String),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Login { username, .. } => f.debug_struct("Login").field("username", username).finish_non_exhaustive(),
            Self::Static(_) => f.write_str("Static(***)"),
        }
    }
}

impl MojConfig {
    /// Every problem that can be found without I/O (environment variables are read
    /// only when used). Empty means valid.
    pub fn validate(&self) -> Vec<MojConfigError> {
        let mut errs = Vec::new();
        if let Err(e) = check_url(&self.url) {
            errs.push(MojConfigError::Url(e));
        }
        let sources = [
            ("password", &self.password),
            ("password_env", &self.password_env),
            ("token", &self.token),
            ("token_env", &self.token_env),
        ];
        let set: Vec<_> = sources.iter().filter(|(_, v)| v.is_some()).map(|(name, _)| *name).collect();
        match set.as_slice() {
            [name] => {
                let login = name.starts_with("password");
                let (field, inline, env) = if login {
                    ("password", &self.password, &self.password_env)
                } else {
                    ("token", &self.token, &self.token_env)
                };
                errs.extend(secret::check(inline, env).map(|p| problem(field, p, MojConfigError::CredentialSource)));
                let username = self.username.as_deref().map(str::trim);
                if login && username.is_none_or(str::is_empty) {
                    errs.push(MojConfigError::MissingUsername);
                } else if !login && self.username.is_some() {
                    errs.push(MojConfigError::UnusedUsername);
                }
            }
            _ => errs.push(MojConfigError::CredentialSource),
        }
        errs.extend(
            secret::check(&self.auth_key, &self.auth_key_env)
                .map(|p| problem("auth_key", p, MojConfigError::AuthKeySource)),
        );
        if let Err(e) = check_unit_code(&self.unit_code) {
            errs.push(MojConfigError::UnitCode(e));
        }
        if self.province_code.len() != 2 || !self.province_code.bytes().all(|b| b.is_ascii_digit()) {
            errs.push(MojConfigError::ProvinceCode);
        }
        errs
    }

    /// The credentials, with secrets read from the file or the environment.
    pub fn credentials(&self) -> Result<Credentials, MojConfigError> {
        match (&self.password, &self.password_env, &self.token, &self.token_env) {
            (Some(_), None, None, None) | (None, Some(_), None, None) => {
                let username = self.username.clone().filter(|u| !u.trim().is_empty());
                let username = username.ok_or(MojConfigError::MissingUsername)?;
                let password = secret::resolve(&self.password, &self.password_env)
                    .map_err(|p| problem("password", p, MojConfigError::CredentialSource))?;
                Ok(Credentials::Login { username, password })
            }
            (None, None, Some(_), None) | (None, None, None, Some(_)) => {
                let token = secret::resolve(&self.token, &self.token_env)
                    .map_err(|p| problem("token", p, MojConfigError::CredentialSource))?;
                Ok(Credentials::Static(token))
            }
            _ => Err(MojConfigError::CredentialSource),
        }
    }

    /// The judicial-records key (`authKey`), from the file or the environment.
    pub fn auth_key(&self) -> Result<String, MojConfigError> {
        secret::resolve(&self.auth_key, &self.auth_key_env)
            .map_err(|p| problem("auth_key", p, MojConfigError::AuthKeySource))
    }
}

/// The error for a problem with the secret `field` (or its `_env` twin); `source`
/// when not exactly one of the two is set.
fn problem(field: &'static str, problem: SecretProblem, source: MojConfigError) -> MojConfigError {
    match problem {
        SecretProblem::Source => source,
        SecretProblem::Empty => MojConfigError::EmptySecret(field),
        SecretProblem::EnvName => MojConfigError::EnvName(env_field(field)),
        SecretProblem::EnvUnset(var) => MojConfigError::EnvUnset { field: env_field(field), var },
    }
}

fn env_field(field: &'static str) -> &'static str {
    match field {
        "password" => "password_env",
        "token" => "token_env",
        _ => "auth_key_env",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> MojConfig {
        MojConfig {
            url: "https://lienthong.moj.gov.vn".into(),
            username: Some("lienthong".into()),
            password: Some("secret".into()),
            password_env: None,
            token: None,
            token_env: None,
            unit_code: "000.00.31.H29".into(),
            province_code: "01".into(),
            auth_key: Some("lltp-key".into()),
            auth_key_env: None,
        }
    }

    #[test]
    fn good_configs_are_valid() {
        assert_eq!(good().validate(), vec![]);
        let env = MojConfig { password: None, password_env: Some("P".into()), auth_key: None, ..good() };
        let env = MojConfig { auth_key_env: Some("K".into()), ..env };
        assert_eq!(env.validate(), vec![]);
        let token = MojConfig { username: None, password: None, token: Some("t".into()), ..good() };
        assert_eq!(token.validate(), vec![]);
        assert_eq!(token.credentials().unwrap(), Credentials::Static("t".into()));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let bad = MojConfig {
            url: "ftp://x".into(),
            username: None,
            password: Some("p".into()),
            token_env: Some("T".into()),
            auth_key: None,
            unit_code: "bad code".into(),
            province_code: "7".into(),
            ..good()
        };
        let got: Vec<String> = bad.validate().iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            vec![
                "url: scheme must be http or https",
                "password: set exactly one of password, password_env, token and token_env",
                "auth_key: set exactly one of auth_key and auth_key_env",
                "unit_code: may hold only letters, digits, '.' and '-'",
                "province_code: must be the province's two-digit code",
            ]
        );
        let no_user = MojConfig { username: Some(" ".into()), ..good() };
        assert_eq!(no_user.validate(), vec![MojConfigError::MissingUsername]);
        let stray_user = MojConfig { password: None, token: Some("t".into()), ..good() };
        assert_eq!(stray_user.validate(), vec![MojConfigError::UnusedUsername]);
        let empty = MojConfig { password: Some(String::new()), auth_key_env: Some("A=B".into()), ..good() };
        let got: Vec<String> = empty.validate().iter().map(ToString::to_string).collect();
        assert_eq!(got, vec!["password: must not be empty", "auth_key: set exactly one of auth_key and auth_key_env"]);
        for url in ["not a url", "http://u:p@host", "http://host/?q=1", "http://host/#f"] {
            assert_eq!(MojConfig { url: url.into(), ..good() }.validate().len(), 1, "{url}");
        }
    }

    #[test]
    fn secrets_come_from_the_file_or_the_environment() {
        let Credentials::Login { username, password } = good().credentials().unwrap() else { panic!("login") };
        assert_eq!((username.as_str(), password.as_str()), ("lienthong", "secret"));
        assert_eq!(good().auth_key().unwrap(), "lltp-key");
        let var = "LIENTHONG_TEST_SURELY_UNSET_MOJ_VARIABLE";
        let missing = MojConfig { auth_key: None, auth_key_env: Some(var.into()), ..good() };
        let e = missing.auth_key().unwrap_err();
        assert_eq!(e.to_string(), format!("auth_key_env: environment variable {var} is not set"));
        let missing = MojConfig { password: None, password_env: Some(var.into()), ..good() };
        assert!(missing.credentials().unwrap_err().to_string().starts_with("password_env:"));
    }

    #[test]
    fn unknown_fields_are_refused_and_debug_hides_secrets() {
        let text = r#"{"url":"http://h","password":"p","unit_code":"X","province_code":"01","extra":1}"#;
        assert!(serde_json::from_str::<MojConfig>(text).is_err());
        let shown = format!("{:?}", MojConfig { token: Some("tok-secret".into()), ..good() });
        assert!(!shown.contains("secret") && !shown.contains("lltp-key"), "{shown}");
        assert!(!format!("{:?}", good().credentials().unwrap()).contains("secret"));
    }

    #[test]
    fn works_inside_an_internally_tagged_enum() {
        #[derive(Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        enum Agency {
            Moj(MojConfig),
        }
        let text = r#"{"kind":"moj","url":"http://h","username":"u","password_env":"P",
                       "unit_code":"X","province_code":"79","auth_key_env":"K"}"#;
        let Agency::Moj(c) = serde_json::from_str(text).unwrap();
        assert_eq!(c.validate(), vec![]);
    }
}
