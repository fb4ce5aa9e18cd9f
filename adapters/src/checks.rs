//! Checks of configured values that several agencies share; each returns the
//! reason a value is refused, and the caller's error names the field.

/// An absolute http(s) URL with a host, without credentials, query or fragment.
pub(crate) fn check_url(url: &str) -> Result<(), &'static str> {
    let u = url::Url::parse(url).map_err(|_| "not an absolute URL")?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err("scheme must be http or https");
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("must name a host");
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("must not carry credentials; use username and password");
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err("must not have a query or fragment");
    }
    Ok(())
}

/// A unit code: 1 to 40 ASCII letters, digits, `.` and `-`.
pub(crate) fn check_unit_code(code: &str) -> Result<(), &'static str> {
    if code.is_empty() || code.len() > 40 {
        return Err("must have 1 to 40 characters");
    }
    if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
        return Err("may hold only letters, digits, '.' and '-'");
    }
    Ok(())
}
