//! The routing table: procedure code (exact, or longest prefix) to agency.

use schemas::{AgencyId, MaTTHC};

use crate::config::Config;

/// Routes from a validated configuration.
#[derive(Debug, Clone, Default)]
pub struct RoutingTable {
    exact: Vec<(String, AgencyId)>,
    /// Longest prefix first, so the first match is the most specific.
    prefixes: Vec<(String, AgencyId)>,
}

impl RoutingTable {
    /// Builds the table from a validated configuration.
    pub fn from_config(config: &Config) -> Self {
        let mut t = Self::default();
        for r in &config.routes {
            let Ok(agency) = AgencyId::parse(&r.agency) else { continue };
            match (&r.procedure, &r.prefix) {
                (Some(p), _) => t.exact.push((p.clone(), agency)),
                (None, Some(p)) => t.prefixes.push((p.clone(), agency)),
                _ => {}
            }
        }
        t.prefixes.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        t
    }

    /// The agency that decides a procedure, if any route claims it.
    pub fn route(&self, procedure: &MaTTHC) -> Option<&AgencyId> {
        let code = procedure.as_str();
        self.exact
            .iter()
            .find(|(p, _)| p == code)
            .or_else(|| self.prefixes.iter().find(|(p, _)| code.starts_with(p.as_str())))
            .map(|(_, a)| a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_beats_prefix_and_longest_prefix_wins() {
        let cfg = Config::from_toml(
            r#"
            [agencies.a]
            kind = "dvcqg"
            url = "http://127.0.0.1:1"
            username = "u"
            password = "p"
            unit_code = "G22"
            [agencies.b]
            kind = "dvcqg"
            url = "http://127.0.0.1:2"
            username = "u"
            password = "p"
            unit_code = "G22"
            [[routes]]
            prefix = "1."
            agency = "a"
            [[routes]]
            prefix = "1.005"
            agency = "b"
            [[routes]]
            procedure = "1.005129"
            agency = "a"
            "#,
        )
        .unwrap();
        let t = RoutingTable::from_config(&cfg);
        let r = |c: &str| t.route(&MaTTHC::parse(c).unwrap()).map(|a| a.as_str().to_owned());
        assert_eq!(r("1.005129").as_deref(), Some("a"));
        assert_eq!(r("1.005130").as_deref(), Some("b"));
        assert_eq!(r("1.000001").as_deref(), Some("a"));
        assert_eq!(r("2.000001"), None);
    }
}
