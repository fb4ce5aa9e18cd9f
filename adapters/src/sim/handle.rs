//! The methods every agency simulator passes straight to its [`SimServer`](super::SimServer).

/// Expands, inside `impl <Agency>Simulator`, to the methods that only delegate to
/// its `server: SimServer` field (`url`, `addr`, `faults`, `set_faults`,
/// `go_down`, `come_up` and `shutdown`), and `set_keep`, which goes to the
/// `set_keep` of its `agency`'s state.
macro_rules! server_delegations {
    () => {
        /// The base URL, such as `http://127.0.0.1:41234`.
        pub fn url(&self) -> String {
            self.server.url()
        }

        /// The bound address.
        pub fn addr(&self) -> ::std::net::SocketAddr {
            self.server.addr()
        }

        /// The server's own counters (requests, injected failures, most in flight).
        pub fn server_stats(&self) -> $crate::sim::SimStats {
            self.server.stats()
        }

        /// The faults in force.
        pub fn faults(&self) -> $crate::sim::Faults {
            self.server.faults()
        }

        /// Replaces the faults; clearing `hang` releases held requests.
        pub fn set_faults(&self, faults: $crate::sim::Faults) {
            self.server.set_faults(faults);
        }

        /// Closes the listener and drops every connection (clients get "connection
        /// refused"); what was received is kept.
        pub async fn go_down(&self) {
            self.server.go_down().await;
        }

        /// Listens again on the same port after [`go_down`](Self::go_down).
        pub async fn come_up(&self) -> ::std::io::Result<()> {
            self.server.come_up().await
        }

        /// From now on keeps at most `n` (at least one) of each kind of record
        /// it was sent, letting the oldest go first; counters go on counting.
        /// Unless changed, it keeps [`DEFAULT_KEEP`]($crate::sim::DEFAULT_KEEP).
        pub fn set_keep(&self, n: usize) {
            self.agency.lock().set_keep(n);
        }

        /// Stops gracefully: requests in progress finish, held ones are dropped.
        pub async fn shutdown(&self) {
            self.server.shutdown().await;
        }
    };
}

pub(crate) use server_delegations;
