//! Configuration hot reload (SIGHUP): what can change safely while serving —
//! members and their tokens, certificates bindings and grants; routes; rate
//! limits; and the CRL files — is swapped in at once; anything else that
//! changed is reported as needing a restart and left as it was.

use std::sync::{Arc, RwLock};

use crate::config::Config;

/// A value that a reload replaces as a whole; readers take the current one.
#[derive(Debug)]
pub struct Reloadable<T>(RwLock<Arc<T>>);

impl<T> Reloadable<T> {
    /// Holds `value`.
    pub fn new(value: T) -> Self {
        Self(RwLock::new(Arc::new(value)))
    }

    /// The current value.
    pub fn get(&self) -> Arc<T> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the value; readers holding the old one finish with it.
    pub fn set(&self, value: T) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(value);
    }
}

/// What a reload did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadReport {
    /// Sections whose changes were applied.
    pub applied: Vec<&'static str>,
    /// Sections that changed but need a restart; their old values stay.
    pub need_restart: Vec<&'static str>,
}

/// The sections of `new` that differ from `old` and cannot change while serving.
pub fn needs_restart(old: &Config, new: &Config) -> Vec<&'static str> {
    let mut out = Vec::new();
    let differ = |a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| format!("{a:?}") != format!("{b:?}");
    if differ(&old.server, &new.server) {
        out.push("server");
    }
    if differ(&old.store, &new.store) {
        out.push("store");
    }
    if differ(&old.delivery, &new.delivery) {
        out.push("delivery");
    }
    if differ(&old.agencies, &new.agencies) {
        out.push("agencies");
    }
    if differ(&old.lookup, &new.lookup) {
        out.push("lookup");
    }
    if differ(&old.status, &new.status) {
        out.push("status");
    }
    if differ(&old.audit, &new.audit) {
        out.push("audit");
    }
    if differ(&old.log, &new.log) {
        out.push("log");
    }
    // The CRL files are re-read; every other signature setting needs a restart.
    let strip = |c: &Config| {
        let mut s = c.signatures.clone();
        s.crls.clear();
        s
    };
    if differ(&strip(old), &strip(new)) || old.signatures.crls != new.signatures.crls {
        out.push("signatures");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sections_that_cannot_change_while_serving_are_reported() {
        let old = Config::default();
        let mut new = old.clone();
        new.limits.submit = Some(crate::config::Rate { per_second: 1.0, burst: 1 });
        new.routes.clear();
        assert!(needs_restart(&old, &new).is_empty(), "limits and routes reload");
        new.server.max_body_bytes += 1;
        new.audit.sign_every = std::time::Duration::from_secs(1);
        new.signatures.crls.push("other.crl".into());
        assert_eq!(needs_restart(&old, &new), ["server", "audit", "signatures"]);
        let r = Reloadable::new(1);
        let held = r.get();
        r.set(2);
        assert_eq!((*held, *r.get()), (1, 2), "a reader keeps the value it took");
    }
}
