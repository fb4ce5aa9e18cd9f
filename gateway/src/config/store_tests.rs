//! What validation checks of `[store]`, and how replicas share rate limits.

use std::time::Duration;

use crate::config::{Config, Rate};

fn errors(text: &str) -> Vec<String> {
    match Config::from_toml(text) {
        Ok(_) => Vec::new(),
        Err(e) => e.0.into_iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn a_remote_database_is_reached_over_tls_unless_the_network_is_declared_private() {
    for ok in [
        "url = \"postgres://lt@db.example.internal/lt?sslmode=require\"",
        "url = \"postgres://lt@localhost/lt\"",
        "url = \"postgres://lt@127.0.0.1/lt?sslmode=disable\"",
        "url = \"postgres://lt@db/lt?sslmode=disable\"\nallow_plaintext = true",
        "url_file = \"/run/secrets/store-url\"",
    ] {
        assert_eq!(errors(&format!("[store]\n{ok}\n")), Vec::<String>::new(), "{ok}");
    }
    for (bad, why) in [
        ("url = \"postgres://lt@db.example.internal/lt\"", "sslmode=require"),
        ("url = \"postgres://lt@db.example.internal/lt?sslmode=prefer\"", "sslmode=require"),
        ("url = \"postgres://lt@10.0.0.5/lt?sslmode=disable\"", "sslmode=require"),
        ("url = \"mysql://lt@db/lt\"", "postgres://"),
        ("url = \"postgres://lt@db/lt?sslmode=bogus\"", "store.url"),
        ("url = \"postgres://lt@localhost/lt\"\nurl_file = \"u\"", "not both"),
        ("pool_size = 0", "store.pool_size"),
        ("replicas = 0", "store.replicas"),
        ("replicas = 3", "shared store"),
    ] {
        let e = errors(&format!("[store]\n{bad}\n"));
        assert!(e.iter().any(|e| e.contains(why)), "{bad}: {e:?}");
    }
    let short = errors("[delivery]\nrequest_timeout = \"10s\"\nlease = \"10s\"\n");
    assert!(short.iter().any(|e| e.starts_with("delivery.lease")), "{short:?}");
}

#[test]
fn each_replica_enforces_its_share_so_that_together_they_never_exceed_a_limit() {
    let r = Rate { per_second: 100.0, burst: 10 };
    assert_eq!(r.shared_by(1), r);
    assert_eq!(r.shared_by(3), Rate { per_second: 100.0 / 3.0, burst: 4 });
    assert_eq!(r.shared_by(0), r, "zero is treated as one");
    assert_eq!(Rate { per_second: 1.0, burst: 1 }.shared_by(6).burst, 1, "a burst is never below one");
    // Parsed without validation: the agency itself is not what is tested here.
    let config: Config = toml::from_str(
        "[store]\nurl = \"postgres://lt@localhost/lt\"\nreplicas = 4\n\n\
         [limits]\nsubmit = { per_second = 40.0, burst = 8 }\n\n\
         [delivery.agencies.moj]\nrate = { per_second = 20.0, burst = 5 }\nmax_concurrent = 6\n",
    )
    .unwrap();
    let shared = config.delivery.shared_by(config.store.replicas);
    let moj = &shared.agencies["moj"];
    assert_eq!(moj.rate, Some(Rate { per_second: 5.0, burst: 2 }));
    assert_eq!(moj.max_concurrent, Some(2));
    // Four replicas at their share: the agency sees at most its rate.
    let total = moj.rate.unwrap().per_second * f64::from(config.store.replicas);
    assert!(total <= 20.0);
    let member = config.limits.shared_by(config.store.replicas).submit.unwrap();
    assert_eq!(member, Rate { per_second: 10.0, burst: 2 });
    assert_eq!(config.delivery.lease(), config.delivery.request_timeout * 4 + Duration::from_secs(30));
}
