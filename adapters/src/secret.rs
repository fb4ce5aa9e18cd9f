//! A secret an operator configures either in the file or through an environment
//! variable (`password`/`password_env`, `client_secret`/`client_secret_env`, ...):
//! the "exactly one of the two" rule, reading it, and hiding it in `Debug` output.
//!
//! The config structs keep their two `Option<String>` fields (so the TOML field
//! names stay as they are) and map a [`SecretProblem`] to their own error, which
//! names the field.

/// What is wrong with a secret's pair of fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretProblem {
    /// Both or neither of the fields are set.
    Source,
    /// The secret written in the file is empty.
    Empty,
    /// The `_env` field cannot name an environment variable.
    EnvName,
    /// The variable the `_env` field names is unset or empty.
    EnvUnset(String),
}

/// The problem that can be found without I/O, if any.
pub(crate) fn check(inline: &Option<String>, env: &Option<String>) -> Option<SecretProblem> {
    match (inline, env) {
        (Some(s), None) if s.is_empty() => Some(SecretProblem::Empty),
        (None, Some(v)) if v.is_empty() || v.contains(['=', '\0']) => Some(SecretProblem::EnvName),
        (Some(_), None) | (None, Some(_)) => None,
        _ => Some(SecretProblem::Source),
    }
}

/// The secret, from the file or from the environment.
pub(crate) fn resolve(inline: &Option<String>, env: &Option<String>) -> Result<String, SecretProblem> {
    match (inline, env) {
        (Some(s), None) if !s.is_empty() => Ok(s.clone()),
        (Some(_), None) => Err(SecretProblem::Empty),
        (None, Some(var)) => match std::env::var(var) {
            Ok(s) if !s.is_empty() => Ok(s),
            _ => Err(SecretProblem::EnvUnset(var.clone())),
        },
        _ => Err(SecretProblem::Source),
    }
}

/// How a secret written in the file shows in `Debug` output: `Some("***")` or `None`.
pub(crate) fn masked(inline: &Option<String>) -> Option<&'static str> {
    inline.as_ref().map(|_| "***")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn exactly_one_source_and_a_usable_value() {
        assert_eq!(check(&s("p"), &None), None);
        assert_eq!(check(&None, &s("P")), None);
        assert_eq!(check(&s("p"), &s("P")), Some(SecretProblem::Source));
        assert_eq!(check(&None, &None), Some(SecretProblem::Source));
        assert_eq!(check(&s(""), &None), Some(SecretProblem::Empty));
        assert_eq!(check(&None, &s("A=B")), Some(SecretProblem::EnvName));
        assert_eq!(resolve(&s("p"), &None), Ok("p".to_owned()));
        assert_eq!(resolve(&s(""), &None), Err(SecretProblem::Empty));
        assert_eq!(resolve(&None, &None), Err(SecretProblem::Source));
        let var = "LIENTHONG_TEST_SURELY_UNSET_SHARED_SECRET";
        assert_eq!(resolve(&None, &s(var)), Err(SecretProblem::EnvUnset(var.to_owned())));
        assert_eq!(masked(&s("p")), Some("***"));
        assert_eq!(masked(&None), None);
    }
}
