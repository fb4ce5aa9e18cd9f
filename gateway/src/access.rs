//! Access rules: what each member may do beyond who it is. Everything not
//! granted is refused with 403, a stable code naming the rule, and a count in
//! `lienthong_access_denied_total`; every decision is logged with the member and
//! the route template, never with dossier contents.

use http::StatusCode;

use crate::config::MemberConfig;
use crate::error::ApiError;

/// A member's grants, from its configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// Agencies the member may send dossiers to (`*`: any).
    pub send_to: Vec<String>,
    /// Procedures it may send and report on: exact codes, prefixes ending in `*`,
    /// or `*`.
    pub procedures: Vec<String>,
    /// Whether it may post status events (of dossiers it is a party to).
    pub post_status: bool,
}

impl Grants {
    /// The grants of a configured member.
    pub fn of(m: &MemberConfig) -> Self {
        Self { send_to: m.send_to.clone(), procedures: m.procedures.clone(), post_status: m.post_status }
    }

    /// Whether `procedure` is among the granted procedures.
    pub fn covers_procedure(&self, procedure: &str) -> bool {
        self.procedures.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => procedure.starts_with(prefix),
            None => p == procedure,
        })
    }

    /// May the member send a dossier of `procedure` to `agency`?
    pub fn may_send(&self, agency: &str, procedure: &str) -> Result<(), ApiError> {
        if !self.send_to.iter().any(|a| a == "*" || a == agency) {
            return Err(denied("agency_not_granted", format!("this member may not send dossiers to agency {agency}")));
        }
        if !self.covers_procedure(procedure) {
            return Err(denied("procedure_not_granted", format!("this member may not send procedure {procedure}")));
        }
        Ok(())
    }

    /// May the member post status events of a dossier of `procedure` (it is
    /// already known to be a party to it)?
    pub fn may_post_status(&self, procedure: &str) -> Result<(), ApiError> {
        if !self.post_status {
            return Err(denied("status_not_granted", "this member may not post status events".into()));
        }
        if !self.covers_procedure(procedure) {
            return Err(denied(
                "procedure_not_granted",
                format!("this member may not report on procedure {procedure}"),
            ));
        }
        Ok(())
    }
}

fn denied(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(send_to: &[&str], procedures: &[&str], post_status: bool) -> Grants {
        Grants {
            send_to: send_to.iter().map(|s| s.to_string()).collect(),
            procedures: procedures.iter().map(|s| s.to_string()).collect(),
            post_status,
        }
    }

    #[test]
    fn only_what_is_granted_is_allowed() {
        let g = grants(&["moj"], &["1.001193", "2.*"], false);
        g.may_send("moj", "1.001193").unwrap();
        g.may_send("moj", "2.000488").unwrap();
        assert_eq!(g.may_send("mpi", "1.001193").unwrap_err().code, "agency_not_granted");
        assert_eq!(g.may_send("moj", "1.001194").unwrap_err().code, "procedure_not_granted");
        assert_eq!(g.may_send("moj", "1.0011930").unwrap_err().code, "procedure_not_granted", "exact means exact");
        assert_eq!(g.may_post_status("1.001193").unwrap_err().code, "status_not_granted");
        let none = Grants::default();
        assert_eq!(none.may_send("moj", "1.001193").unwrap_err().code, "agency_not_granted");
        let all = grants(&["*"], &["*"], true);
        all.may_send("anything", "3.000181").unwrap();
        all.may_post_status("3.000181").unwrap();
        assert_eq!(grants(&["*"], &["*"], true).may_post_status("x").map_err(|e| e.status), Ok(()));
    }
}
