//! The store commands: `lienthong migrate` run by several processes at once
//! applies each migration once, `lienthong store check` reports the schema, and
//! a database migrated by a newer build is refused by both `check` and `serve`.

use std::process::Command;

use crate::support::*;

fn lienthong(args: &[&str], config: &std::path::Path) -> (bool, String) {
    let out = Command::new(bin()).args(args).arg("--config").arg(config).output().expect("lienthong runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_once_under_concurrent_starts_and_a_newer_schema_is_refused() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim.url(), &Options::default());
    // Four processes migrate the same new database at once.
    let runs: Vec<_> = (0..4)
        .map(|_| {
            Command::new(bin())
                .args(["migrate", "--config"])
                .arg(&config)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied_now = 0;
    for run in runs {
        let out = run.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("ok: the schema is current"), "{text}");
        if text.contains("applied now: [") {
            applied_now += 1;
        }
    }
    let db = Database::of(dir.path());
    let (table, versions) = match &db {
        Database::Sqlite(_) => ("schema_migrations", 11),
        Database::Postgres(_) => ("lienthong_migrations", 2),
    };
    assert_eq!(count_rows(&db, table), versions, "each migration recorded once");
    if matches!(db, Database::Postgres(_)) {
        assert_eq!(applied_now, 1, "one process applied the migrations, the others found them done");
    }

    let (ok, out) = lienthong(&["store", "check"], &config);
    assert!(ok, "{out}");
    assert!(out.contains("pending: none; unknown to this build: none"), "{out}");
    if matches!(db, Database::Postgres(_)) {
        assert!(out.contains("encrypted connection: yes"), "the tests reach PostgreSQL over TLS: {out}");
    }

    // A newer build migrated the database further: this one refuses to serve it.
    let cols = if matches!(db, Database::Sqlite(_)) { "(version, applied_at_ms) VALUES (99, 0)" } else { "(version) VALUES (99)" };
    db.exec(&format!("INSERT INTO {table} {cols}"));
    let (ok, out) = lienthong(&["store", "check"], &config);
    assert!(!ok, "{out}");
    assert!(out.contains("NOT SERVABLE") && out.contains("[99]"), "{out}");
    let mut serve = Command::new(bin())
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = serve.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            serve.kill().unwrap();
            panic!("the gateway served a database of a newer schema");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut serve.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!status.success());
    assert!(err.contains("schema version 99"), "{err}");
}
