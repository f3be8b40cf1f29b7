use chrono::{Duration, Utc};
use outreach::domain::Role;
use serde_json::json;

use crate::events::new_event;
use crate::helpers::{assert_problem, json_ok, spawn_app};
use crate::partners::{CENTRE, create as create_partner, partner_body};

#[tokio::test]
async fn the_registration_page_works_without_scripts() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 1).await;
    let path = format!("/api/v1/events/{}", e["id"].as_str().unwrap());
    app.patch_json(&path, Some(&am.token), &json!({"title": "<script>alert(1)</script>亲子日"})).await;
    let code = e["registration_code"].as_str().unwrap();
    let url = e["registration_url"].as_str().unwrap();
    assert!(url.ends_with(&format!("/e/{code}")));

    let page = app.get(format!("/e/{code}"), None).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let html = page.text().await.unwrap();
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;亲子日") && !html.contains("<script>"),
        "escaped, no scripts"
    );
    assert!(html.contains("<form") && html.contains("name=\"consent\"") && html.contains("江门一中"));

    // Without consent: the form again, with what to fix and what was typed.
    let refused = app
        .client
        .post(app.url(&format!("/e/{code}")))
        .form(&[("name", "陈女士"), ("phone", "13912340000")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("请勾选") && html.contains("13912340000"));

    let done = app
        .client
        .post(app.url(&format!("/e/{code}")))
        .form(&[("name", "陈女士"), ("phone", "139 1234 0000"), ("consent", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let html = done.text().await.unwrap();
    assert!(html.contains("报名成功"), "{html}");
    let ticket = html.split("class=\"ticket\">").nth(1).and_then(|s| s.split('<').next()).unwrap().to_owned();
    assert_eq!(ticket.len(), 10);

    // The ticket's QR holds the ticket code, which staff scan at the door.
    let png = app.get(format!("/e/{code}/tickets/{ticket}.png"), None).await;
    assert_eq!(png.status(), 200);
    let img = image::load_from_memory(&png.bytes().await.unwrap()).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let (_, content) = prepared.detect_grids()[0].decode().unwrap();
    assert_eq!(content, ticket);
    assert_problem(app.get(format!("/e/{code}/tickets/WRONGTICKT.png"), None).await, 404, "not_found").await;

    // The event is full now: a second person is waitlisted, on the page too.
    let second = app
        .client
        .post(app.url(&format!("/e/{code}")))
        .form(&[("name", "李先生"), ("phone", "13912340001"), ("consent", "yes")])
        .send()
        .await
        .unwrap();
    assert!(second.text().await.unwrap().contains("候补名单第 1 位"));
    let missing = app.get("/e/NOSUCHEVENT1", None).await;
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("没有找到"));
}

/// Whatever staff type into an event or a partner, and whatever an attendee types into the form,
/// reaches the page as text: no element, no attribute ended early, no template syntax run.
#[tokio::test]
async fn hostile_text_reaches_the_page_escaped() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let p =
        create_partner(&app, &am.token, &partner_body("{{ partner }}<b>\"甲\"</b> & 'Co'", CENTRE.0, CENTRE.1)).await;
    let starts = Utc::now() + Duration::days(10);
    let body = json!({
        "partner_id": p["id"], "title": "<script>alert(1)</script>{{ title }}{% if x %}", "theme": "parent_child",
        "starts_at": starts.to_rfc3339(), "ends_at": (starts + Duration::hours(2)).to_rfc3339(),
        "venue": "礼堂\" onmouseover='alert(2)'", "capacity": 5
    });
    let e = json_ok(app.post_json("/api/v1/events", Some(&am.token), &body).await, 201).await;
    let code = e["registration_code"].as_str().unwrap();

    let html = app.get(format!("/e/{code}"), None).await.text().await.unwrap();
    assert!(html.contains("<title>&#60;script&#62;alert(1)&#60;/script&#62;{{ title }}{% if x %}</title>"), "{html}");
    assert!(html.contains("<h1>&#60;script&#62;alert(1)&#60;/script&#62;{{ title }}{% if x %}</h1>"), "{html}");
    assert!(html.contains("地点：礼堂&#34; onmouseover=&#39;alert(2)&#39;<br>"), "{html}");
    assert!(html.contains("合作方：{{ partner }}&#60;b&#62;&#34;甲&#34;&#60;/b&#62; &#38; &#39;Co&#39;<br>"), "{html}");
    assert!(!html.contains("<script") && !html.contains("<b>") && !html.contains("onmouseover='"), "{html}");

    // What the attendee typed comes back inside the inputs' value="…", still one attribute each.
    let refused = app
        .client
        .post(app.url(&format!("/e/{code}")))
        .form(&[("name", "\"><script>alert(3)</script>'{{ name }}"), ("phone", "' autofocus onfocus='alert(4)")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("value=\"&#34;&#62;&#60;script&#62;alert(3)&#60;/script&#62;&#39;{{ name }}\">"), "{html}");
    assert!(html.contains("value=\"&#39; autofocus onfocus=&#39;alert(4)\">"), "{html}");
    assert!(!html.contains("<script") && !html.contains("onfocus='"), "{html}");
}
