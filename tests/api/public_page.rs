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

    assert!(html.contains("个人信息保护说明") && html.contains("主办方"), "organiser and privacy notice: {html}");
    let request_id = html.split("name=\"request_id\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap();
    let form = [("name", "陈女士"), ("phone", "139 1234 0000"), ("consent", "yes"), ("request_id", request_id)];
    let done = app.client.post(app.url(&format!("/e/{code}"))).form(&form).send().await.unwrap();
    // Registered: on to the ticket page, the attendee's bookmark, which only its link opens.
    assert_eq!(done.status(), 303);
    let location = done.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("/e/{code}/t/")) && location.len() > 30, "{location}");
    // The same form sent again (the answer lost): the same ticket page.
    let resent = app.client.post(app.url(&format!("/e/{code}"))).form(&form).send().await.unwrap();
    assert_eq!((resent.status().as_u16(), resent.headers()["location"].to_str().unwrap()), (303, location.as_str()));
    // Anyone else with the same phone learns nothing of the ticket.
    let other = [("name", "冒充者"), ("phone", "13912340000"), ("consent", "yes")];
    let refused = app.client.post(app.url(&format!("/e/{code}"))).form(&other).send().await.unwrap();
    assert_eq!(refused.status(), 409);
    let html = refused.text().await.unwrap();
    assert!(html.contains("已经报名") && !html.contains("/t/") && !html.contains("class=\"ticket\""), "{html}");

    let page = app.get(&location, None).await;
    assert_eq!((page.status().as_u16(), page.headers()["referrer-policy"].to_str().unwrap()), (200, "no-referrer"));
    let html = page.text().await.unwrap();
    assert!(html.contains("报名成功") && html.contains("收藏本页") && html.contains("取消报名"), "{html}");
    let ticket = html.split("class=\"ticket\">").nth(1).and_then(|s| s.split('<').next()).unwrap().to_owned();
    assert_eq!(ticket.len(), 10);

    // The ticket's QR holds the door code, which staff scan; only the ticket page has it.
    let png = app.get(format!("{location}/qr.png"), None).await;
    assert_eq!(png.status(), 200);
    let img = image::load_from_memory(&png.bytes().await.unwrap()).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let (_, content) = prepared.detect_grids()[0].decode().unwrap();
    assert_eq!(content, ticket);
    let wrong = format!("/e/{code}/t/AAAAAAAAAAAAAAAAAAAAAAAA/qr.png");
    assert_problem(app.get(wrong, None).await, 404, "not_found").await;
    assert_eq!(app.get(format!("/e/{code}/t/{ticket}"), None).await.status(), 404, "the door code opens nothing");

    // The event is full now: the form says so before, and the ticket page after.
    let html = app.get(format!("/e/{code}"), None).await.text().await.unwrap();
    assert!(html.contains("候补名单") && html.contains("加入候补"), "{html}");
    let second = app
        .client
        .post(app.url(&format!("/e/{code}")))
        .form(&[("name", "李先生"), ("phone", "13912340001"), ("consent", "yes")])
        .send()
        .await
        .unwrap();
    let waiting = second.headers()["location"].to_str().unwrap().to_owned();
    let html = app.get(&waiting, None).await.text().await.unwrap();
    assert!(html.contains("候补名单第 1 位") && html.contains("不能入场") && !html.contains("qr.png"), "{html}");
    assert_eq!(app.get(format!("{waiting}/qr.png"), None).await.status(), 404, "a waitlisted ticket has no QR");

    // Cancelling from the page gives the place to the first waitlisted.
    let cancelled = app.client.post(app.url(&format!("{location}/cancel"))).send().await.unwrap();
    assert_eq!(cancelled.status(), 303);
    assert!(app.get(&location, None).await.text().await.unwrap().contains("已取消"));
    assert!(app.get(&waiting, None).await.text().await.unwrap().contains("报名成功"));

    // Withdrawing: a page that says what is erased, then the erasure; the link stops working.
    let html = app.get(format!("{waiting}/withdraw"), None).await.text().await.unwrap();
    assert!(html.contains("确认撤回并删除") && html.contains("个人信息保护说明"), "{html}");
    let erased = app.client.post(app.url(&format!("{waiting}/withdraw"))).send().await.unwrap();
    assert_eq!(erased.status(), 200);
    assert!(erased.text().await.unwrap().contains("已删除"));
    assert_eq!(app.get(&waiting, None).await.status(), 404);

    // A cancelled event says so.
    app.patch_json(&path, Some(&am.token), &json!({"status": "cancelled"})).await;
    assert!(app.get(format!("/e/{code}"), None).await.text().await.unwrap().contains("本活动已取消"));
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
