//! Every agency through the gateway: one dossier per ministry arrives at that
//! ministry's simulator in its own format, and at DVCQG too; look-ups round-trip;
//! token expiry and SOAP faults behave end to end.

use std::path::Path;
use std::time::{Duration, Instant};

use gateway::auth::hash_token;
use gateway::demo::Simulators;

use crate::support::*;

/// A configuration with every agency pointing at its simulator, written under `dir`.
pub(crate) fn config(dir: &Path, sims: &Simulators) -> std::path::PathBuf {
    config_with(dir, sims, "")
}

/// [`config`] with `extra` TOML appended (members, sections).
pub(crate) fn config_with(dir: &Path, sims: &Simulators, extra: &str) -> std::path::PathBuf {
    let url = |a: &str| sims.received().into_iter().find(|(n, _, _)| *n == a).map(|(_, u, _)| u).unwrap_or_default();
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
plaintext = true

[store]
{store}

[delivery]
{lease}
poll_interval = "100ms"
request_timeout = "2s"
backoff_initial = "100ms"
backoff_max = "500ms"

[lookup]
timeout = "2s"

[[members]]
id = "portal-h29"
role = "portal"
token_sha256 = "{portal}"
send_to = ["*"]
post_status = true
lookups = ["*"]

[[members]]
id = "ops"
role = "operator"
token_sha256 = "{operator}"

[agencies.dvcqg]
kind = "dvcqg"
url = "{dvcqg}"
username = "u"
password = "s"
unit_code = "000.00.00.G22"

[agencies.mpi]
kind = "mpi"
url = "{mpi}"
username = "u"
password = "s"

[agencies.moit]
kind = "moit"
url = "{moit}"
client_id = "u"
client_secret = "s"
scope = "hoso.submit hoso.read giayphep.read"

[agencies.moj]
kind = "moj"
url = "{moj}"
username = "u"
password = "s"
unit_code = "000.00.00.G22"
province_code = "01"
auth_key = "s"

{extra}
"#,
        store = crate::stores::store_section(dir),
        lease = crate::stores::delivery_lines(),
        portal = hash_token(PORTAL_TOKEN),
        operator = hash_token(OPERATOR_TOKEN),
        dvcqg = url("dvcqg"),
        mpi = url("mpi"),
        moit = url("moit"),
        moj = url("moj"),
        extra = extra,
    );
    let path = dir.join("lienthong.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn example(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/examples").join(name)).unwrap()
}

fn code_of(body: &[u8]) -> String {
    let dossier = schemas::dossier_from_json(body).or_else(|_| schemas::dossier_from_xml(body)).unwrap();
    dossier.code.to_string()
}

/// The JSON dossier with only its inline files: Justice takes files only inline.
fn files_inline_only(body: &[u8]) -> Vec<u8> {
    let mut d: serde_json::Value = serde_json::from_slice(body).unwrap();
    d["TaiLieuNop"].as_array_mut().unwrap().retain(|f| f.get("DuLieuTep").is_some());
    assert!(!d["TaiLieuNop"].as_array().unwrap().is_empty());
    serde_json::to_vec(&d).unwrap()
}

/// Waits until every delivery of the dossier is done; returns the view.
async fn wait_all_delivered(api: &Api, code: &str) -> serde_json::Value {
    api.wait_all_delivered(code, 1, Duration::from_secs(15)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_dossier_per_ministry_arrives_in_its_format_and_at_dvcqg() {
    let sims = Simulators::start_at(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), "u", "s").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(&config(dir.path(), &sims)).await;
    let api = Api::new(&gw.url);

    let cases = [
        ("dang-ky-doanh-nghiep.xml", "application/xml", "mpi"),
        ("ban-le-ruou.json", "application/json", "moit"),
        ("khai-tu.json", "application/json", "moj"),
    ];
    let mut codes = Vec::new();
    for (file, content_type, agency) in cases {
        let mut body = example(file);
        if agency == "moj" {
            body = files_inline_only(&body);
        }
        let code = code_of(&body);
        let (status, receipt) = api.submit(PORTAL_TOKEN, content_type, body).await;
        assert_eq!(status, 202, "{file}: {receipt}");
        assert_eq!(receipt["agency"], agency, "{file}");
        let view = wait_all_delivered(&api, &code).await;
        let agencies: Vec<&str> =
            view["deliveries"].as_array().unwrap().iter().map(|d| d["agency"].as_str().unwrap()).collect();
        assert_eq!(agencies, [agency, "dvcqg"], "{file}");
        codes.push(code);
    }

    // Each ministry has the dossier in its own format, validated by its simulator.
    let mpi = sims.mpi.received();
    assert_eq!(mpi.len(), 1);
    assert_eq!(mpi[0].ma_ho_so, codes[0]);
    let moit = sims.moit.received();
    assert_eq!(moit.len(), 1);
    assert_eq!(moit[0].ma_ho_so, codes[1]);
    assert_eq!(moit[0].body["maHoSo"], codes[1].as_str(), "camelCase JSON REST");
    let moj = sims.moj.received();
    assert_eq!(moj.len(), 1);
    assert_eq!(moj[0].ma_ho_so, codes[2]);
    assert_eq!(moj[0].module.as_deref(), Some("KT"), "a death registration");
    // And DVCQG has every one of them, each once.
    let mut at_dvcqg: Vec<String> = sims.dvcqg.received().into_iter().map(|r| r.ma_ho_so).collect();
    at_dvcqg.sort();
    let mut want = codes.clone();
    want.sort();
    assert_eq!(at_dvcqg, want);

    // A judicial-record request without its files inline cannot reach Justice: refused now.
    let (status, body) = api.submit(PORTAL_TOKEN, "application/xml", example("ly-lich-tu-phap.xml")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("agency_cannot_accept")), "{body}");

    // Look-ups through the gateway, each translated by its adapter.
    let get = |path: String| {
        let api = api.clone();
        async move { api.get(PORTAL_TOKEN, &path).await }
    };
    let (status, body) = get("/v1/agencies/mpi/lookups/enterprise?tax_code=0101234567".into()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["tax_code"], "0101234567");
    let (status, body) = get("/v1/agencies/mpi/lookups/enterprise?tax_code=0000000000".into()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found_at_agency")), "{body}");
    for (agency, lookup) in [("mpi", "dossier"), ("moit", "dossier"), ("moj", "civil-status"), ("moj", "dossier")] {
        let code = match agency {
            "mpi" => &codes[0],
            "moit" => &codes[1],
            _ => &codes[2],
        };
        let (status, body) = get(format!("/v1/agencies/{agency}/lookups/{lookup}?code={code}")).await;
        assert_eq!(status, 200, "{agency}/{lookup}: {body}");
        assert!(body["result"].to_string().contains(code.as_str()), "{agency}/{lookup}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_are_renewed_and_soap_faults_are_classified_end_to_end() {
    let sims = Simulators::start_at(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), "u", "s").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(&config(dir.path(), &sims)).await;
    let api = Api::new(&gw.url);

    // MOIT: deliver once (a token is fetched), expire every token, deliver again.
    let first = example("ban-le-ruou.json");
    let first_code = code_of(&first);
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", first).await.0, 202);
    wait_all_delivered(&api, &first_code).await;
    sims.moit.expire_tokens();
    let second = example("thong-bao-khuyen-mai.json");
    let second_code = code_of(&second);
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", second).await.0, 202);
    let view = wait_all_delivered(&api, &second_code).await;
    assert_eq!(view["deliveries"][0]["attempts"], 1, "the 401 was handled inside the attempt: {view}");
    let stats = sims.moit.stats();
    assert!(stats.unauthorized_expired >= 1 && stats.tokens_issued >= 2, "{stats:?}");

    // MPI: a business fault (name taken) is permanent; a busy fault is retried.
    sims.mpi.set_reject_next("MPI-102");
    let body = String::from_utf8(example("dang-ky-doanh-nghiep.xml")).unwrap();
    let code = code_of(body.as_bytes());
    assert_eq!(api.submit(PORTAL_TOKEN, "application/xml", body.clone()).await.0, 202);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, view) = api.dossier(OPERATOR_TOKEN, &code).await;
        if view["deliveries"][0]["state"] == "failed" {
            assert!(view["deliveries"][0]["last_error"].as_str().unwrap().contains("MPI-102"), "{view}");
            break;
        }
        assert!(Instant::now() < deadline, "{view}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sims.mpi.set_reject_next("MPI-503");
    let other_code = code.replacen("-0", "-9", 1);
    let other = body.replace(&code, &other_code);
    assert_ne!(other_code, code);
    assert_eq!(api.submit(PORTAL_TOKEN, "application/xml", other).await.0, 202);
    let view = wait_all_delivered(&api, &other_code).await;
    assert_eq!(view["deliveries"][0]["attempts"], 2, "busy, then accepted: {view}");
}
