//! The status side of the demo: the portal reports each accepted dossier as
//! received, Justice's officers process and finish theirs at the simulator (the
//! gateway learns it by polling), and the portal reads it all back from its feed.

use std::time::{Duration, Instant};

use anyhow::Context;
use schemas::VnDateTime;
use serde_json::{json, Value};

use super::Simulators;

/// What the status phase did.
pub(super) struct StatusSummary {
    /// Events the portal posted and the gateway accepted.
    pub posted: u64,
    /// Dossiers Justice processed and finished at its simulator.
    pub decided_at_moj: u64,
    /// Events the portal read from its feed, and in how many pages.
    pub read: (u64, u64),
    /// `GET /v1/stats` over every dossier.
    pub stats: Value,
}

/// Runs the phase for the accepted dossiers `(code, agency)`.
pub(super) async fn run(
    base: &str,
    portal_token: &str,
    accepted: &[(String, String)],
    sims: &Simulators,
) -> anyhow::Result<StatusSummary> {
    let client = reqwest::Client::new();
    // Received an hour ago, as the one-stop shop recorded it.
    let received_at = VnDateTime::from_utc(chrono::Utc::now() - chrono::Duration::hours(1)).to_dvcqg();
    let mut posted = 0;
    for (code, _) in accepted {
        let item = json!({"MaHoSo": code, "TrangThai": "2", "ThoiDiemXuLy": received_at,
                          "NguoiXuLy": "Bộ phận một cửa", "NoiDungXuLy": "Tiếp nhận hồ sơ"});
        let r = client
            .post(format!("{base}/v1/dossiers/{code}/status"))
            .bearer_auth(portal_token)
            .json(&item)
            .send()
            .await
            .context("posting a status")?;
        posted += u64::from(r.status().as_u16() == 201);
    }
    let mut decided_at_moj = 0;
    for (code, _) in accepted.iter().filter(|(_, agency)| agency == "moj") {
        sims.moj.set_status(code, 4, "Thụ lý hồ sơ", None);
        sims.moj.set_status(code, 9, "Đã cấp trích lục", None);
        decided_at_moj += 1;
    }

    // Everything comes back through the portal's feed: its own posts, and what
    // polling Justice found.
    let expected = posted + 2 * decided_at_moj;
    let (mut read, mut pages, mut cursor) = (0u64, 0u64, None::<String>);
    let deadline = Instant::now() + Duration::from_secs(60);
    while read < expected && Instant::now() < deadline {
        let mut url = format!("{base}/v1/feed?limit=100&wait=2");
        if let Some(c) = &cursor {
            url.push_str(&format!("&after={c}"));
        }
        let page: Value = client.get(url).bearer_auth(portal_token).send().await?.json().await?;
        let n = page["events"].as_array().map_or(0, Vec::len) as u64;
        read += n;
        pages += u64::from(n > 0);
        if let Some(next) = page["next"].as_str() {
            cursor = Some(next.to_owned());
        }
    }
    let stats: Value = client.get(format!("{base}/v1/stats")).bearer_auth(portal_token).send().await?.json().await?;
    Ok(StatusSummary { posted, decided_at_moj, read: (read, pages), stats })
}
