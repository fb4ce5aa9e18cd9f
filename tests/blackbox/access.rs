//! Access rules end to end: a portal may send only to the agencies and
//! procedures it is granted, and post status events only when granted; each
//! refusal is a 403 naming its rule, stores nothing, and is counted.

use crate::status::{item, metric};
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_granted_agencies_procedures_and_status_posts_are_allowed() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        portal_b_extra: "send_to = [\"dvcqg\"]\nprocedures = [\"1.*\"]\npost_status = false".into(),
        ..Options::default()
    };
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &opts)).await;
    let api = Api::new(&gw.url);
    let dossier = json_dossier_of;
    let granted = "000.00.31.H49-261122-0001";
    assert_eq!(api.submit(PORTAL_B_TOKEN, "application/json", dossier(granted, "1.001193")).await.0, 202);

    let cases = [
        // Routed to agency `other`, which is not granted.
        ("000.00.31.H49-261122-0002", "3.000181", "agency_not_granted"),
        // Routed to DVCQG, but the procedure is outside 1.*.
        ("000.00.31.H49-261122-0003", "2.001234", "procedure_not_granted"),
    ];
    for (code, procedure, rule) in cases {
        let (status, body) = api.submit(PORTAL_B_TOKEN, "application/json", dossier(code, procedure)).await;
        assert_eq!((status, body["error"]["code"].as_str()), (403, Some(rule)), "{body}");
    }
    assert_eq!(count_rows(&gw.database(), "dossiers"), 1, "refusals store nothing");
    // The other portal, granted everything, sends the same procedure there.
    let other = "000.00.31.H29-261122-0002";
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", dossier(other, "3.000181")).await.0, 202);

    // Its own dossier, but no status posts granted.
    let (status, body) = api.post_status(PORTAL_B_TOKEN, granted, &item(granted, 2, "20261122083000", "x")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("status_not_granted")), "{body}");
    assert_eq!(count_rows(&gw.database(), "status_events"), 0);
    // A look-up it is not granted.
    let (status, body) = api.get(PORTAL_B_TOKEN, &format!("/v1/agencies/other/lookups/dossier?code={other}")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");

    for (route, rule) in [
        ("/v1/dossiers", "agency_not_granted"),
        ("/v1/dossiers", "procedure_not_granted"),
        ("/v1/dossiers/{code}/status", "status_not_granted"),
        ("/v1/agencies/{agency}/lookups/{name}", "forbidden"),
    ] {
        let n = metric(
            &api,
            "lienthong_access_denied_total",
            &[("member", "portal-h49"), ("route", route), ("rule", rule)],
        )
        .await;
        assert_eq!(n, Some(1.0), "{route} {rule}");
    }
    let granted_member = metric(&api, "lienthong_access_denied_total", &[("member", "portal-h29")]).await;
    assert_eq!(granted_member, None);
}
