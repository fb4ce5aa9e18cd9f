//! The store column of the black-box matrix. The same tests are built twice from
//! this source: test binary `blackbox` runs every gateway on the embedded SQLite
//! file, `blackbox_postgres` on a fresh PostgreSQL database reached over TLS.
//!
//! PostgreSQL is found at `LIENTHONG_TEST_POSTGRES` (default
//! `postgres://postgres@localhost:5432`, as `.ci/run` starts it); the server's
//! certificate is checked against `LIENTHONG_TEST_POSTGRES_CA` (default Debian's
//! `ssl-cert-snakeoil.pem`, issued to `localhost`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Whether this binary is the PostgreSQL column.
pub fn postgres() -> bool {
    env!("CARGO_CRATE_NAME") == "blackbox_postgres"
}

fn server() -> String {
    std::env::var("LIENTHONG_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@localhost:5432".into())
}

fn server_ca() -> String {
    std::env::var("LIENTHONG_TEST_POSTGRES_CA").unwrap_or_else(|_| "/etc/ssl/certs/ssl-cert-snakeoil.pem".into())
}

/// Runs `f` on a plain connection to database `name`, on a thread of its own (the
/// synchronous client must not run on the tests' async runtime).
fn with_client<T: Send>(name: &str, f: impl FnOnce(&mut postgres::Client) -> T + Send) -> T {
    let url = plain_url(name);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut client = postgres::Client::connect(&url, postgres::NoTls)
                .unwrap_or_else(|e| panic!("PostgreSQL at {}: {e} (is it running?)", server()));
            f(&mut client)
        })
        .join()
        .expect("database thread")
    })
}

/// The URL of database `name` on the test server, without TLS.
pub fn plain_url(name: &str) -> String {
    format!("{}/{name}?sslmode=disable", server())
}

/// Creates an empty database for one test. Databases left by test processes that
/// are gone are dropped first, so a machine does not fill up with them.
pub fn create_database() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let pid = std::process::id();
    let name = format!("lt_test_{pid}_{}", N.fetch_add(1, Ordering::Relaxed));
    with_client("postgres", |c| {
        let stale: Vec<String> = c
            .query("SELECT datname FROM pg_database WHERE datname LIKE 'lt\\_test\\_%'", &[])
            .expect("list databases")
            .iter()
            .map(|r| r.get(0))
            .filter(|n: &String| {
                let owner = n.split('_').nth(2).unwrap_or_default();
                !Path::new("/proc").join(owner).exists()
            })
            .collect();
        for old in stale {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{old}\" WITH (FORCE)"));
        }
        c.batch_execute(&format!("CREATE DATABASE \"{name}\"")).expect("create the test database");
    });
    name
}

/// The lines of the `[store]` section for a gateway whose files are under `dir`.
/// For PostgreSQL a new database is created and its name noted in `dir`, where
/// [`Database::of`] finds it.
pub fn store_section(dir: &Path) -> String {
    let data = dir.join("data");
    if !postgres() {
        return format!("data_dir = \"{}\"", data.display());
    }
    let marker = dir.join("postgres-database");
    let name = match std::fs::read_to_string(&marker) {
        Ok(name) => name,
        Err(_) => {
            let name = create_database();
            std::fs::write(&marker, &name).expect("note the database");
            name
        }
    };
    format!(
        "data_dir = \"{}\"\nurl = \"{}/{name}?sslmode=require\"\nca_file = \"{}\"\npool_size = 2",
        data.display(),
        server(),
        server_ca()
    )
}

/// Lines of the `[delivery]` section the column needs. A gateway killed with
/// SIGKILL leaves its claims leased; on SQLite the next start releases them (the
/// file is one process's), on PostgreSQL they wait out their lease, which the
/// tests shorten to 5 s (twice the tests' request timeout, and a margin).
pub fn delivery_lines() -> &'static str {
    if postgres() {
        "lease = \"5s\""
    } else {
        ""
    }
}

/// The database of the gateway configured in a directory.
#[derive(Debug, Clone)]
pub enum Database {
    /// The SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by name.
    Postgres(String),
}

impl Database {
    /// The database of the gateway whose configuration is in `dir`.
    pub fn of(dir: &Path) -> Database {
        match std::fs::read_to_string(dir.join("postgres-database")) {
            Ok(name) => Database::Postgres(name),
            Err(_) => Database::Sqlite(dir.join("data").join("lienthong.db")),
        }
    }

    /// How the gateway names it in its errors.
    pub fn name(&self) -> String {
        match self {
            Database::Sqlite(p) => p.file_name().unwrap_or_default().to_string_lossy().into_owned(),
            Database::Postgres(n) => n.clone(),
        }
    }

    /// Runs a statement (plain SQL both databases understand); rows changed.
    pub fn exec(&self, sql: &str) -> u64 {
        match self {
            Database::Sqlite(p) => rusqlite::Connection::open(p).expect("db opens").execute(sql, []).expect(sql) as u64,
            Database::Postgres(n) => with_client(n, |c| c.execute(sql, &[]).expect(sql)),
        }
    }

    /// The one integer a query returns.
    pub fn i64(&self, sql: &str) -> i64 {
        match self {
            Database::Sqlite(p) => rusqlite::Connection::open_with_flags(p, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .expect("db opens")
                .query_row(sql, [], |r| r.get(0))
                .expect(sql),
            Database::Postgres(n) => with_client(n, |c| c.query_one(sql, &[]).expect(sql).get(0)),
        }
    }

    /// The one byte string a query returns.
    pub fn bytes(&self, sql: &str) -> Vec<u8> {
        match self {
            Database::Sqlite(p) => rusqlite::Connection::open_with_flags(p, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .expect("db opens")
                .query_row(sql, [], |r| r.get(0))
                .expect(sql),
            Database::Postgres(n) => with_client(n, |c| c.query_one(sql, &[]).expect(sql).get(0)),
        }
    }

    /// Makes the store impossible to open: the SQLite file becomes a directory;
    /// the PostgreSQL database is dropped.
    pub fn destroy(&self) {
        match self {
            Database::Sqlite(db) => {
                std::fs::remove_file(db).unwrap();
                let _ = std::fs::remove_file(db.with_extension("db-wal"));
                let _ = std::fs::remove_file(db.with_extension("db-shm"));
                std::fs::create_dir(db).unwrap();
            }
            Database::Postgres(n) => with_client("postgres", |c| {
                c.batch_execute(&format!("DROP DATABASE \"{n}\" WITH (FORCE)")).expect("drop the database")
            }),
        }
    }
}

/// A lock on a store that holds a gateway's start until it is dropped: a write
/// transaction on the SQLite file, the migration lock on PostgreSQL.
pub struct StartHold {
    release: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Database {
    /// Takes the lock and returns once it is held. The store must exist.
    pub fn hold_start(&self) -> StartHold {
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (held, holding) = std::sync::mpsc::channel::<()>();
        let db = self.clone();
        let thread = std::thread::spawn(move || match db {
            Database::Sqlite(p) => {
                let conn = rusqlite::Connection::open(p).expect("db opens");
                conn.execute_batch("BEGIN EXCLUSIVE").expect("write lock");
                held.send(()).unwrap();
                let _ = released.recv();
                conn.execute_batch("ROLLBACK").expect("released");
            }
            Database::Postgres(n) => with_client(&n, move |c| {
                let lock = gateway::store::postgres::MIGRATION_LOCK;
                c.execute("SELECT pg_advisory_lock($1)", &[&lock]).expect("lock");
                held.send(()).unwrap();
                let _ = released.recv();
                c.execute("SELECT pg_advisory_unlock($1)", &[&lock]).expect("unlock");
            }),
        });
        holding.recv().expect("the lock is held");
        StartHold { release: Some(release), thread: Some(thread) }
    }
}

impl Drop for StartHold {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Counts rows of a table in a gateway's database (while it runs or not).
pub fn count_rows(db: &Database, table: &str) -> i64 {
    db.i64(&format!("SELECT COUNT(*) FROM {table}"))
}
