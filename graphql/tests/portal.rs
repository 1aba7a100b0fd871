//! The tenant portal over plain HTTP: what it refuses (forged, cross-site or malformed posts,
//! someone else's case, a redirect off the site), what production leaves out, and the
//! sign-in hand-over. The browser walk is `portal_browser.rs`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};

/// A browser-like client: keeps cookies, does not follow redirects (the test reads them).
fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

async fn sign_in(server: &common::TestServer, client: &Client, tenant: &str) {
    let response = client
        .post(server.url("/logga-in"))
        .header("origin", server.url(""))
        .form(&[("tenant", tenant)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
}

async fn page(server: &common::TestServer, client: &Client, path: &str) -> (StatusCode, String) {
    let response = client.get(server.url(path)).send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

fn form_token(html: &str) -> String {
    let marker = "name=\"form_token\" value=\"";
    let start = html
        .find(marker)
        .map(|i| i + marker.len())
        .expect("a form token");
    html[start..start + 64].to_owned()
}

#[tokio::test]
async fn signed_out_visitors_go_to_the_sign_in_and_see_nothing() {
    let server = common::start().await;
    let client = browser();
    for path in [
        "/",
        "/kassa",
        "/arenden",
        "/arenden/TV-2026-000017",
        "/kategori/x",
    ] {
        let response = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()["location"], "/logga-in", "{path}");
    }
    // A garbage or a staff session is no session.
    let garbage = client
        .get(server.url("/"))
        .header("cookie", "tillval_session=not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::SEE_OTHER);
    let staff = client
        .get(server.url("/"))
        .header(
            "cookie",
            format!("tillval_session={}", server.staff_token()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(staff.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_walk_works_over_plain_http_and_pages_are_swedish_first() {
    let server = common::start().await;
    let client = browser();
    sign_in(&server, &client, "anna-svensson").await;
    let (status, html) = page(&server, &client, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<html lang=\"sv\">"));
    assert!(html.contains("Varukorgen är tom."));
    assert!(html.contains("Diskmaskin"));
    let english = client
        .get(server.url("/"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains("<html lang=\"en\">") && english.contains("The cart is empty."));
    // The switch wins over Accept-Language, and only goes back to this site.
    let switch = client
        .get(server.url("/sprak/sv?tillbaka=%2F%2Fevil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(switch.headers()["location"], "/");
}

#[tokio::test]
async fn forged_and_cross_site_posts_change_nothing() {
    let server = common::start().await;
    let client = browser();
    sign_in(&server, &client, "anna-svensson").await;
    let (_, html) = page(&server, &client, "/").await;
    let token = form_token(&html);
    let add = |origin: Option<String>, token: String| {
        let mut request = client.post(server.url("/varukorg/lagg-till")).form(&[
            ("form_token", token.as_str()),
            ("option", "gid://tillval/AddOnOption/dm-bosch-serie4"),
            ("category", "gid://tillval/Category/diskmaskin"),
            ("quantity", "1"),
        ]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    let cases = [
        (Some(server.url("")), "0".repeat(64), "a wrong form token"),
        (Some(server.url("")), String::new(), "no form token"),
        (
            Some("http://evil.example".to_owned()),
            token.clone(),
            "another site",
        ),
        (None, token.clone(), "no origin"),
    ];
    for (origin, given, what) in cases {
        let response = add(origin, given).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{what}");
    }
    let (_, html) = page(&server, &client, "/").await;
    assert!(
        html.contains("Varukorgen är tom."),
        "a refused post changed the cart"
    );
    // Another tenant's form token is not this session's.
    let other = browser();
    sign_in(&server, &other, "eva-nilsson").await;
    let (_, eva) = page(&server, &other, "/").await;
    let response = add(Some(server.url("")), form_token(&eva)).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // The right one goes through.
    let response = add(Some(server.url("")), token).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&server, &client, "/").await;
    assert!(html.contains("1 artikel"));
}

#[tokio::test]
async fn bad_input_in_forms_is_a_page_that_says_so_not_a_failure() {
    let server = common::start().await;
    let client = browser();
    sign_in(&server, &client, "eva-nilsson").await;
    let (_, html) = page(&server, &client, "/kassa").await;
    let token = form_token(&html);
    let post = |path: &'static str, fields: Vec<(&'static str, String)>| {
        client
            .post(server.url(path))
            .header("origin", server.url(""))
            .form(&fields)
            .send()
    };
    let with_token = |mut fields: Vec<(&'static str, String)>| {
        fields.push(("form_token", token.clone()));
        fields
    };
    let spot = "gid://tillval/AddOnOption/bel-spotlight-kitchen".to_owned();
    for quantity in ["0", "100", "-1", "abc", "", "1e3", "９"] {
        let response = post(
            "/varukorg/antal",
            with_token(vec![
                ("option", spot.clone()),
                ("quantity", quantity.into()),
            ]),
        )
        .await
        .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{quantity:?}"
        );
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("Det finns ett problem")
        );
    }
    let unknown = post(
        "/varukorg/ta-bort",
        with_token(vec![(
            "option",
            "gid://tillval/AddOnOption/<script>".into(),
        )]),
    )
    .await
    .unwrap();
    assert!(unknown.status().is_client_error(), "{}", unknown.status());
    assert!(!unknown.text().await.unwrap().contains("<script>"));
    for (phone, date) in [
        ("ring mig", ""),
        ("070-123 45 67", "2020-01-01"),
        ("", "not-a-date"),
    ] {
        let response = post(
            "/kassa/uppgifter",
            with_token(vec![
                ("contact_phone", phone.into()),
                ("preferred_date", date.into()),
                ("message", String::new()),
            ]),
        )
        .await
        .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{phone:?} {date:?}"
        );
        let body = response.text().await.unwrap();
        assert!(body.contains("aria-invalid=\"true\""), "{phone:?} {date:?}");
        assert!(
            body.contains(&format!("value=\"{phone}\"")),
            "what was typed is kept"
        );
    }
    let missing = post(
        "/kassa/skicka",
        with_token(vec![("terms_version", "x".into())]),
    )
    .await
    .unwrap();
    assert!(missing.status().is_client_error());
    // A form with fields missing altogether is refused before anything runs.
    let bare = post("/varukorg/lagg-till", with_token(vec![]))
        .await
        .unwrap();
    assert!(bare.status().is_client_error());
}

#[tokio::test]
async fn a_tenant_sees_only_their_own_cases() {
    let server = common::start().await;
    let client = browser();
    sign_in(&server, &client, "anna-svensson").await;
    // Cecilia's seeded ongoing order: not Anna's.
    let (status, html) = page(&server, &client, "/arenden/TV-2026-000017").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains("Cecilia"));
    let (status, _) = page(
        &server,
        &client,
        "/arenden/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let cecilia = browser();
    sign_in(&server, &cecilia, "cecilia-holm").await;
    let (_, list) = page(&server, &cecilia, "/arenden").await;
    assert!(
        list.contains("data-case-status"),
        "Cecilia sees her own cases"
    );
}

#[tokio::test]
async fn production_has_no_demo_sign_in_and_takes_the_landlords_hand_over() {
    let server = common::start_with(true).await;
    let client = browser();
    let response = client.get(server.url("/logga-in")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let demo = client
        .post(server.url("/logga-in"))
        .header("origin", server.url(""))
        .form(&[("tenant", "anna-svensson")])
        .send()
        .await
        .unwrap();
    assert!(demo.status().is_client_error(), "{}", demo.status());
    let (status, html) = page(&server, &client, "/").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("hyresvärds inloggning"));
    // The hand-over: a refused token sets nothing; a tenant's token opens the portal.
    for bad in ["", "x.y.z", &server.staff_token()] {
        let response = client
            .post(server.url("/session"))
            .form(&[("token", bad)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bad:?}");
        assert!(response.headers().get("set-cookie").is_none());
    }
    let response = client
        .post(server.url("/session"))
        .form(&[("token", server.token("anna-svensson"))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, html) = page(&server, &client, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Tillval för din lägenhet"));
}
