//! The daily showcase card: a PNG of the expected size with text where text belongs, for those
//! who may see the project; and a configured font that cannot draw Chinese is refused at start.

use image::RgbImage;
use outreach::domain::Role;
use outreach::media::card::{CARD_HEIGHT, CARD_WIDTH, RANKING_BAND, TITLE_BAND};

use crate::cli::Sandbox;
use crate::helpers::{TestApp, assert_problem, spawn_history_app};
use crate::project_progress::fixture;
use crate::projects::{create_project, day, project_body, project_path};

async fn card(app: &TestApp, path: &str, token: &str) -> RgbImage {
    let response = app.get(path, Some(token)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let image = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), (CARD_WIDTH, CARD_HEIGHT));
    image
}

/// Pixels in rows `band` that differ sharply from their left neighbour: the edges of glyphs.
fn ink(image: &RgbImage, band: (u32, u32)) -> usize {
    let mut edges = 0;
    for y in band.0..band.1 {
        for x in 1..image.width() {
            let (a, b) = (image.get_pixel(x, y).0, image.get_pixel(x - 1, y).0);
            let diff: u32 = a.iter().zip(b).map(|(p, q)| u32::from(p.abs_diff(q))).sum();
            if diff > 120 {
                edges += 1;
            }
        }
    }
    edges
}

#[tokio::test]
async fn the_card_is_a_png_with_the_project_its_figures_and_its_stars() {
    let app = spawn_history_app().await;
    let fx = fixture(&app).await;
    let url = format!("{}/showcase.png?date={}", fx.path, day(-2));
    let busy = card(&app, &url, &fx.sm.token).await;
    // A member of the team gets the same card.
    assert_eq!(card(&app, &url, &fx.am2.token).await, busy, "the same day draws the same card");
    assert!(ink(&busy, TITLE_BAND) > 1500, "title: {}", ink(&busy, TITLE_BAND));

    // A project nobody has worked on yet: the same frame, an empty ranking.
    let am = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let quiet = create_project(&app, &fx.sm.token, &project_body(am.id, am.id, -3, 20)).await;
    let empty = card(&app, &format!("{}/showcase.png", project_path(&quiet)), &fx.sm.token).await;
    // The ranking's first row holds the star of the project so far on one card, nothing on the
    // other (whose ranking says "no data yet" further down).
    let row = (RANKING_BAND.1 - RANKING_BAND.0) / 5;
    let first = (RANKING_BAND.0, RANKING_BAND.0 + row);
    assert!(ink(&busy, first) > 300, "first ranking row: {}", ink(&busy, first));
    assert!(ink(&empty, first) < 30, "first ranking row when empty: {}", ink(&empty, first));
    assert!(ink(&empty, RANKING_BAND) > 200, "the empty ranking says so: {}", ink(&empty, RANKING_BAND));
    assert!(ink(&empty, TITLE_BAND) > 1500, "the empty card still names its project");
    // Today (no date) is a card too.
    card(&app, &format!("{}/showcase.png", fx.path), &fx.am1.token).await;
}

#[tokio::test]
async fn the_card_is_for_those_who_see_the_project() {
    let app = spawn_history_app().await;
    let fx = fixture(&app).await;
    let url = format!("{}/showcase.png", fx.path);
    let stranger = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let other_branch = app.login_at(Role::BranchManager, Some(app.tree.branch_b)).await;
    for token in [&stranger.token, &other_branch.token, &app.login_as(Role::Supervisor).await.token] {
        assert_problem(app.get(&url, Some(token)).await, 404, "not_found").await;
    }
    assert_eq!(app.get(&url, None).await.status(), 401);
    for bad in ["2200-01-01", "yesterday", "2026-02-30"] {
        let response = app.get(format!("{url}?date={bad}"), Some(&fx.sm.token)).await;
        assert_eq!(response.status(), 422, "{bad}");
    }
}

#[tokio::test]
async fn a_configured_font_must_draw_chinese() {
    let sandbox = Sandbox::new();
    let fake = sandbox.dir.path().join("fake.ttf");
    std::fs::write(&fake, b"not a font at all").unwrap();
    let missing = sandbox.dir.path().join("missing.ttf");
    for path in [&fake, &missing] {
        let out = sandbox.command().arg("migrate").env("OUTREACH_SHOWCASE_FONT", path).output().await.unwrap();
        assert!(!out.status.success(), "{} was accepted", path.display());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("OUTREACH_SHOWCASE_FONT"), "{stderr}");
    }
    let vendored = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/fonts/wqy-microhei.ttc");
    let out = sandbox.command().arg("migrate").env("OUTREACH_SHOWCASE_FONT", vendored).output().await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
