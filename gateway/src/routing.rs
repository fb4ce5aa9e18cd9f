//! The routing table: procedure code (exact, or longest prefix) to the agency that
//! decides it, and the business payload the procedure needs.

use std::fmt::Write as _;

use schemas::{AgencyId, MaTTHC, PayloadKind};

use crate::config::Config;

/// One route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The procedure code, or the prefix when `exact` is false.
    pub pattern: String,
    /// Whether `pattern` is a whole procedure code.
    pub exact: bool,
    /// The agency.
    pub agency: AgencyId,
    /// The payload the procedure needs, if any.
    pub payload: Option<PayloadKind>,
}

/// The routes used when the configuration gives none: the procedures the agency
/// simulators support (an exact route per ministry procedure), and DVCQG for the rest.
/// A route is kept only when its agency is configured.
pub const DEFAULT_ROUTES: &[(&str, bool, &str, Option<PayloadKind>)] = &[
    ("1.001612", true, "mpi", Some(PayloadKind::BusinessRegistration)),
    ("2.000046", true, "mpi", Some(PayloadKind::BusinessRegistration)),
    ("2.001610", true, "moit", Some(PayloadKind::TradeLicence)),
    ("2.000633", true, "moit", Some(PayloadKind::TradeLicence)),
    ("2.002492", true, "moit", Some(PayloadKind::TradeLicence)),
    ("2.001187", true, "moit", Some(PayloadKind::TradeLicence)),
    ("1.001193", true, "moj", Some(PayloadKind::CivilStatus)),
    ("1.000656", true, "moj", Some(PayloadKind::CivilStatus)),
    ("2.000488", true, "moj", Some(PayloadKind::JudicialRecord)),
    ("1.", false, "dvcqg", None),
    ("2.", false, "dvcqg", None),
    ("3.", false, "dvcqg", None),
];

/// The default routes whose agency passes `configured`.
fn default_routes(configured: impl Fn(&str) -> bool) -> Vec<Route> {
    DEFAULT_ROUTES
        .iter()
        .filter(|(_, _, agency, _)| configured(agency))
        .filter_map(|(p, exact, agency, payload)| {
            Some(Route {
                pattern: (*p).into(),
                exact: *exact,
                agency: AgencyId::parse(agency).ok()?,
                payload: *payload,
            })
        })
        .collect()
}

/// Routes from a validated configuration.
#[derive(Debug, Clone, Default)]
pub struct RoutingTable {
    exact: Vec<Route>,
    /// Longest prefix first, so the first match is the most specific.
    prefixes: Vec<Route>,
}

impl RoutingTable {
    /// Builds the table from a validated configuration, or the default table when
    /// the configuration has no routes.
    pub fn from_config(config: &Config) -> Self {
        let configured: Vec<Route> = if config.routes.is_empty() {
            default_routes(|agency| config.agencies.contains_key(agency))
        } else {
            config
                .routes
                .iter()
                .filter_map(|r| {
                    let agency = AgencyId::parse(&r.agency).ok()?;
                    let payload = r.payload.as_deref().and_then(PayloadKind::parse);
                    match (&r.procedure, &r.prefix) {
                        (Some(p), _) => Some(Route { pattern: p.clone(), exact: true, agency, payload }),
                        (None, Some(p)) => Some(Route { pattern: p.clone(), exact: false, agency, payload }),
                        _ => None,
                    }
                })
                .collect()
        };
        Self::sorted(configured)
    }

    fn sorted(routes: Vec<Route>) -> Self {
        let (exact, mut prefixes): (Vec<Route>, Vec<Route>) = routes.into_iter().partition(|r| r.exact);
        prefixes.sort_by(|a, b| b.pattern.len().cmp(&a.pattern.len()).then_with(|| a.pattern.cmp(&b.pattern)));
        Self { exact, prefixes }
    }

    /// The default table with every agency it names.
    pub fn defaults() -> Self {
        Self::sorted(default_routes(|_| true))
    }

    /// The route of a procedure, if any claims it.
    pub fn route(&self, procedure: &MaTTHC) -> Option<&Route> {
        let code = procedure.as_str();
        self.exact
            .iter()
            .find(|r| r.pattern == code)
            .or_else(|| self.prefixes.iter().find(|r| code.starts_with(&r.pattern)))
    }

    /// Every route: exact ones first, then prefixes from the most specific.
    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.exact.iter().chain(&self.prefixes)
    }

    /// The table as aligned text, for `lienthong routes`.
    pub fn render(&self) -> String {
        let mut out = format!("{:<28} {:<8} {}\n", "procedure", "agency", "payload");
        for r in self.routes() {
            let pattern = if r.exact { r.pattern.clone() } else { format!("{}*", r.pattern) };
            let payload = r.payload.map_or("-", |p| p.config_name());
            let _ = writeln!(out, "{pattern:<28} {:<8} {payload}", r.agency.as_str());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGENCY: &str =
        "kind = \"dvcqg\"\nurl = \"http://127.0.0.1:1\"\nusername = \"u\"\npassword = \"p\"\nunit_code = \"G22\"\n";

    #[test]
    fn exact_beats_prefix_and_longest_prefix_wins() {
        let cfg = Config::from_toml(&format!(
            "[agencies.a]\n{AGENCY}[agencies.b]\n{AGENCY}
            [[routes]]
            prefix = \"1.\"
            agency = \"a\"
            [[routes]]
            prefix = \"1.005\"
            agency = \"b\"
            [[routes]]
            procedure = \"1.005129\"
            agency = \"a\"
            payload = \"civil_status\"
            "
        ))
        .unwrap();
        let t = RoutingTable::from_config(&cfg);
        let r = |c: &str| t.route(&MaTTHC::parse(c).unwrap()).map(|r| (r.agency.as_str().to_owned(), r.payload));
        assert_eq!(r("1.005129"), Some(("a".into(), Some(PayloadKind::CivilStatus))));
        assert_eq!(r("1.005130"), Some(("b".into(), None)));
        assert_eq!(r("1.000001"), Some(("a".into(), None)));
        assert_eq!(r("2.000001"), None);
        assert!(t.render().contains("1.005*"));
    }

    #[test]
    fn the_default_table_keeps_only_configured_agencies() {
        let cfg = Config::from_toml(&format!("[agencies.dvcqg]\n{AGENCY}")).unwrap();
        let t = RoutingTable::from_config(&cfg);
        assert!(t.routes().all(|r| r.agency.as_str() == "dvcqg"));
        assert_eq!(t.route(&MaTTHC::parse("1.001193").unwrap()).unwrap().agency.as_str(), "dvcqg");
    }

    #[test]
    fn bad_routes_are_config_errors() {
        let err = Config::from_toml(&format!(
            "[agencies.a]\n{AGENCY}
            [[routes]]
            procedure = \"1.001193\"
            agency = \"a\"
            payload = \"nonsense\"
            [[routes]]
            procedure = \"1.001193\"
            agency = \"a\"
            "
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("routes[0].payload: unknown payload kind"), "{err}");
        assert!(err.contains("routes[1]: 1.001193 is routed twice"), "{err}");
    }
}
