//! Configuration hot reload (SIGHUP): what can change safely while serving —
//! members and their tokens, certificates bindings and grants; routes; rate
//! limits; and the CRL files — is swapped in at once. A file that changes any
//! other section is refused whole, naming the sections that need a restart.

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
    /// What was applied.
    pub applied: Vec<&'static str>,
}

/// A configuration section, printed for comparison.
type Shown = fn(&Config) -> String;

/// The sections of `new` that differ from `old` and cannot change while serving.
pub fn needs_restart(old: &Config, new: &Config) -> Vec<&'static str> {
    fn shown(v: &dyn std::fmt::Debug) -> String {
        format!("{v:?}")
    }
    // The CRL files named are re-read on reload; any change to the signature
    // settings themselves (the CRL paths included) needs a restart.
    let sections: [(&'static str, Shown); 9] = [
        ("server", |c| shown(&c.server)),
        ("store", |c| shown(&c.store)),
        ("delivery", |c| shown(&c.delivery)),
        ("agencies", |c| shown(&c.agencies)),
        ("lookup", |c| shown(&c.lookup)),
        ("status", |c| shown(&c.status)),
        ("audit", |c| shown(&c.audit)),
        ("log", |c| shown(&c.log)),
        ("signatures", |c| shown(&c.signatures)),
    ];
    sections.into_iter().filter(|(_, of)| of(old) != of(new)).map(|(name, _)| name).collect()
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
