//! Dossiers an agency refuses for good end as dead letters with the agency's
//! reason, do not hold up the others, and are delivered when replayed after the
//! cause is fixed; deliveries retried past `delivery.give_up_after` end there too.

use std::net::SocketAddr;
use std::time::Duration;

use gateway::demo::Simulators;
use serde_json::Value;

use crate::support::*;

fn example(name: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/examples").join(name))
        .unwrap()
}

async fn dead_letters(api: &Api) -> Vec<Value> {
    let (status, body) = api.get(OPERATOR_TOKEN, "/v1/admin/dead-letters?limit=100").await;
    assert_eq!(status, 200, "{body}");
    body["dead_letters"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_dossiers_become_dead_letters_that_replay_once_the_cause_is_fixed() {
    let sims = Simulators::start_at(SocketAddr::from(([127, 0, 0, 1], 0)), "u", "s").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(&crate::ministries::config(dir.path(), &sims)).await;
    let api = Api::new(&gw.url);
    let body = example("dang-ky-doanh-nghiep.xml");
    let body_xml = body.clone();
    let code = schemas::dossier_from_xml(body.as_bytes()).unwrap().code.to_string();
    let good_code = code.replacen("-0", "-9", 1);

    // Business registration refuses the first: the name is taken (a permanent fault).
    sims.mpi.set_reject_next("MPI-102");
    assert_eq!(api.submit(PORTAL_TOKEN, "application/xml", body.clone()).await.0, 202);
    api.wait_delivery(&code, "failed", Duration::from_secs(10)).await;
    // The next dossier to the same agency is not held up.
    assert_eq!(api.submit(PORTAL_TOKEN, "application/xml", body.replace(&code, &good_code)).await.0, 202);
    api.wait_delivery(&good_code, "delivered", Duration::from_secs(10)).await;

    let letters = dead_letters(&api).await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!((letters[0]["dossier"].as_str(), letters[0]["agency"].as_str()), (Some(code.as_str()), Some("mpi")));
    assert!(letters[0]["last_error"].as_str().unwrap().contains("MPI-102"), "{letters:?}");
    // The sending portal is told in its feed.
    let (feed, _) = api.drain_feed(PORTAL_TOKEN, None, 10).await;
    assert_eq!(feed.len(), 1, "{feed:?}");
    let notice = &feed[0]["notice"];
    assert_eq!(
        (notice["kind"].as_str(), notice["agency"].as_str()),
        (Some("delivery_failed"), Some("mpi")),
        "{feed:?}"
    );
    assert_eq!(feed[0]["dossier"], code.as_str());
    assert!(notice["error"].as_str().unwrap().contains("MPI-102") && feed[0]["event"].is_null(), "{feed:?}");
    let (status, body) = api.get(PORTAL_TOKEN, "/v1/admin/dead-letters").await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("operator_only")), "{body}");

    // The cause is fixed at the agency: replayed, it is delivered, once.
    let id = letters[0]["id"].as_i64().unwrap();
    let path = format!("/v1/admin/dead-letters/{id}/replay");
    let replay = |token: &'static str| api.post(token, &path, "application/json", "");
    assert_eq!(replay(PORTAL_TOKEN).await.0, 403);
    let (status, body) = replay(OPERATOR_TOKEN).await;
    assert_eq!(status, 200, "{body}");
    api.wait_delivery(&code, "delivered", Duration::from_secs(10)).await;
    assert!(dead_letters(&api).await.is_empty());
    let (status, body) = replay(OPERATOR_TOKEN).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_a_dead_letter")), "{body}");
    let at_mpi: Vec<String> = sims.mpi.received().into_iter().map(|r| r.ma_ho_so).filter(|c| *c == code).collect();
    assert_eq!(at_mpi.len(), 1, "accepted once: {at_mpi:?}");

    // The same through `lienthong dead-letters`, with its operator token in the environment.
    let third = code.replacen("-0", "-8", 1);
    sims.mpi.set_reject_next("MPI-102");
    assert_eq!(api.submit(PORTAL_TOKEN, "application/xml", body_xml.replace(&code, &third)).await.0, 202);
    api.wait_delivery(&third, "failed", Duration::from_secs(10)).await;
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(bin())
            .arg("dead-letters")
            .args(args)
            .args(["--url", &gw.url])
            .env("LIENTHONG_TOKEN", OPERATOR_TOKEN)
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (ok, listed) = cli(&["list"]);
    assert!(
        ok && listed.contains(&third) && listed.contains("MPI-102") && listed.contains("1 dead letters"),
        "{listed}"
    );
    let (ok, replayed) = cli(&["replay", "--all"]);
    assert!(ok && replayed.contains("1 replayed, 0 could not be"), "{replayed}");
    api.wait_delivery(&third, "delivered", Duration::from_secs(10)).await;
    let out = std::process::Command::new(bin())
        .args(["dead-letters", "list", "--url", &gw.url])
        .env_remove("LIENTHONG_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("LIENTHONG_TOKEN"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_retried_past_give_up_after_becomes_a_dead_letter() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        other_url: Some("http://127.0.0.1:9".into()),
        delivery_extra: "status_sync_agency = \"\"\ngive_up_after = \"1s\"".into(),
        ..Options::default()
    };
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &opts)).await;
    let api = Api::new(&gw.url);
    let code = "000.00.31.H29-261122-0001";
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", json_dossier_of(code, "3.000181")).await.0, 202);
    let view = api.wait_delivery(code, "failed", Duration::from_secs(15)).await;
    let error = view["deliveries"][0]["last_error"].as_str().unwrap();
    assert!(error.starts_with("gave up after 1s"), "{view}");
    assert_eq!(dead_letters(&api).await.len(), 1);
}
