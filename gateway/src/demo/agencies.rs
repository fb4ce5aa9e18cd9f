//! The agency simulators of the demo: one per agency, each a real HTTP server on
//! an ephemeral port, and the configuration that points the gateway at them.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use adapters::dvcqg::DvcqgSimulator;
use adapters::moit::MoitSimulator;
use adapters::moj::MojSimulator;
use adapters::mpi::MpiSimulator;
use adapters::sim::Faults;

use crate::config::AgencyConfig;

const USER: &str = "lienthong";
const SECRET: &str = "lienthong-demo";
const UNIT: &str = "000.00.00.G22";
const PROVINCE: &str = "01";

/// The four simulators.
pub struct Simulators {
    /// The National Public Service Portal.
    pub dvcqg: DvcqgSimulator,
    /// Planning & Investment.
    pub mpi: MpiSimulator,
    /// Industry & Trade.
    pub moit: MoitSimulator,
    /// Justice.
    pub moj: MojSimulator,
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

impl Simulators {
    /// Starts every simulator on the given addresses (port 0: any free port), all
    /// accepting `user` and `secret` (the judicial-records key too).
    async fn start_on(addrs: [SocketAddr; 4], user: &str, secret: &str) -> std::io::Result<Self> {
        let dvcqg = DvcqgSimulator::start(
            addrs[0],
            adapters::dvcqg::SimCredentials { username: user.into(), password: secret.into() },
        )
        .await?;
        let mpi = MpiSimulator::start(
            addrs[1],
            adapters::mpi::SimCredentials { username: user.into(), password: secret.into() },
        )
        .await?;
        let moit = MoitSimulator::start(
            addrs[2],
            adapters::moit::SimClient { client_id: user.into(), client_secret: secret.into() },
        )
        .await?;
        let moj = MojSimulator::start(
            addrs[3],
            adapters::moj::SimCredentials {
                username: user.into(),
                password: secret.into(),
                static_token: None,
                auth_key: secret.into(),
                province_code: PROVINCE.into(),
            },
        )
        .await?;
        Ok(Self { dvcqg, mpi, moit, moj })
    }

    /// Starts the simulators on `first` and the three following ports (on free
    /// ports when `first` has port 0).
    pub async fn start_at(first: SocketAddr, user: &str, secret: &str) -> std::io::Result<Self> {
        let at = |i: u16| match first.port() {
            0 => first,
            p => SocketAddr::new(first.ip(), p.saturating_add(i)),
        };
        Self::start_on([at(0), at(1), at(2), at(3)], user, secret).await
    }

    /// Starts every simulator on free ports, each failing the given share of requests.
    pub async fn start(fail_ratio: f64) -> std::io::Result<Self> {
        let Self { dvcqg, mpi, moit, moj } = Self::start_on([any_port(); 4], USER, SECRET).await?;
        let faults = Faults { fail_ratio, ..Faults::default() };
        dvcqg.set_faults(faults.clone());
        mpi.set_faults(faults.clone());
        moit.set_faults(faults.clone());
        moj.set_faults(faults);
        Ok(Self { dvcqg, mpi, moit, moj })
    }

    /// Has every simulator keep at most `n` of each kind of record from now on.
    pub fn set_keep(&self, n: usize) {
        self.dvcqg.set_keep(n);
        self.mpi.set_keep(n);
        self.moit.set_keep(n);
        self.moj.set_keep(n);
    }

    /// The `[agencies]` section pointing at the simulators.
    pub fn agencies(&self) -> BTreeMap<String, AgencyConfig> {
        let mut a = BTreeMap::new();
        a.insert(
            "dvcqg".into(),
            AgencyConfig::Dvcqg(adapters::dvcqg::DvcqgConfig {
                url: self.dvcqg.url(),
                username: USER.into(),
                password: Some(SECRET.into()),
                password_env: None,
                unit_code: UNIT.into(),
            }),
        );
        a.insert(
            "mpi".into(),
            AgencyConfig::Mpi(adapters::mpi::MpiConfig {
                url: self.mpi.url(),
                username: USER.into(),
                password: Some(SECRET.into()),
                password_env: None,
            }),
        );
        a.insert(
            "moit".into(),
            AgencyConfig::Moit(adapters::moit::MoitConfig {
                url: self.moit.url(),
                token_url: None,
                client_id: USER.into(),
                client_secret: Some(SECRET.into()),
                client_secret_env: None,
                scope: "hoso.submit hoso.read giayphep.read".into(),
                sign_requests: false,
            }),
        );
        a.insert(
            "moj".into(),
            AgencyConfig::Moj(adapters::moj::MojConfig {
                url: self.moj.url(),
                username: Some(USER.into()),
                password: Some(SECRET.into()),
                password_env: None,
                token: None,
                token_env: None,
                unit_code: UNIT.into(),
                province_code: PROVINCE.into(),
                auth_key: Some(SECRET.into()),
                auth_key_env: None,
            }),
        );
        a
    }

    /// What each simulator has received: (agency, url, dossiers recorded).
    pub fn received(&self) -> Vec<(&'static str, String, usize)> {
        vec![
            ("dvcqg", self.dvcqg.url(), self.dvcqg.received().len()),
            ("mpi", self.mpi.url(), self.mpi.received().len()),
            ("moit", self.moit.url(), self.moit.received().len()),
            ("moj", self.moj.url(), self.moj.received().len()),
        ]
    }

    /// Stops every simulator.
    pub async fn shutdown(self) {
        self.dvcqg.shutdown().await;
        self.mpi.shutdown().await;
        self.moit.shutdown().await;
        self.moj.shutdown().await;
    }
}
