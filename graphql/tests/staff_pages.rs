//! The workbench's ledger, catalogue and decision pages over plain HTTP: what they do, what
//! they refuse (a tenant, a forged post, an amount that is not one, a filter that is not one,
//! ids that are nobody's), and that nothing changes on a refusal. The browser walk
//! (`portal_browser.rs`) clicks through the same pages with axe-core.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use serde_json::json;

fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

async fn sign_in(server: &common::TestServer, client: &Client, who: &str, role: Option<&str>) {
    let mut form = vec![("tenant", who)];
    if let Some(role) = role {
        form.push(("role", role));
    }
    let response = client
        .post(server.url("/logga-in"))
        .header("origin", server.url(""))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

async fn staff_client(server: &common::TestServer) -> Client {
    let client = browser();
    sign_in(server, &client, "ola-forvaltare", Some("staff")).await;
    client
}

async fn get(server: &common::TestServer, client: &Client, path: &str) -> (StatusCode, String) {
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

const LEDGER_OF_DAVID: &str = "/staff/reskontra?hyresgast=gid%3A%2F%2Ftillval%2FTenant%2Fdavid-ek";

#[tokio::test]
async fn a_tenant_gets_nothing_of_the_new_staff_pages() {
    let server = common::start().await;
    let client = browser();
    sign_in(&server, &client, "david-ek", None).await;
    for path in [
        "/staff/reskontra",
        LEDGER_OF_DAVID,
        "/staff/katalog",
        "/staff/katalog?fastighet=gid%3A%2F%2Ftillval%2FProperty%2Fekbacken",
        "/staff/beslut",
    ] {
        let (status, html) = get(&server, &client, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(!html.contains("David Ek"), "{path} showed a name");
    }
    let (_, html) = get(&server, &client, "/").await;
    let token = form_token(&html);
    let response = client
        .post(server.url("/staff/reskontra/skuld"))
        .header("origin", server.url(""))
        .form(&[
            ("form_token", token.as_str()),
            ("tenant", "gid://tillval/Tenant/david-ek"),
            ("amount", "0"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn staff_record_a_payment_and_a_debt_and_bad_amounts_change_nothing() {
    let server = common::start().await;
    let client = staff_client(&server).await;
    let (status, html) = get(&server, &client, "/staff/reskontra").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("David Ek"), "the directory lists David");
    let (status, html) = get(&server, &client, LEDGER_OF_DAVID).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Reskontra: David Ek"));
    let token = form_token(&html);
    // The fee's id and what remains, as the page holds them.
    let fee = html
        .split("name=\"fee\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a fee with something left")
        .to_owned();
    let post = |path: &'static str, fields: Vec<(&'static str, String)>| {
        client
            .post(server.url(path))
            .header("origin", server.url(""))
            .form(&fields)
            .send()
    };
    let tenant = "gid://tillval/Tenant/david-ek".to_owned();
    let fees_now = || async {
        let account = server
            .data(
                Some(&server.staff_token()),
                "query($t: ID!) { ledgerAccount(tenantId: $t) { fees { id paid { amount } remaining { amount } } } }",
                json!({ "t": "gid://tillval/Tenant/david-ek" }),
            )
            .await;
        account["ledgerAccount"]["fees"].clone()
    };
    let before = fees_now().await;
    for bad in ["tolv", "-5", "1,234", "", "1e3", "99999999999999"] {
        let response = post(
            "/staff/reskontra/betalning",
            vec![
                ("form_token", token.clone()),
                ("tenant", tenant.clone()),
                ("fee", fee.clone()),
                ("currency", "SEK".into()),
                ("amount", bad.into()),
                ("field", "payment-0".into()),
            ],
        )
        .await
        .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad:?}"
        );
        let html = response.text().await.unwrap();
        assert!(html.contains("error-summary"), "{bad:?}");
        assert!(html.contains("href=\"#payment-0\""), "{bad:?}");
    }
    // More than remains: the API's refusal, at the field.
    let response = post(
        "/staff/reskontra/betalning",
        vec![
            ("form_token", token.clone()),
            ("tenant", tenant.clone()),
            ("fee", fee.clone()),
            ("currency", "SEK".into()),
            ("amount", "99999999".into()),
            ("field", "payment-0\" onmouseover=\"x".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("href=\"#payment-0\""),
        "an odd field name falls back"
    );
    assert!(!html.contains("onmouseover"));
    // Nothing was paid by any of that.
    let after = fees_now().await;
    assert_eq!(after, before);
    let remaining = after
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == fee.as_str())
        .unwrap()["remaining"]["amount"]
        .as_i64()
        .unwrap();

    // The whole remainder, in kronor as people write them: paid, and the page after the
    // redirect says so.
    let kronor = format!("{},{:02}", remaining / 100, remaining % 100);
    let response = post(
        "/staff/reskontra/betalning",
        vec![
            ("form_token", token.clone()),
            ("tenant", tenant.clone()),
            ("fee", fee.clone()),
            ("currency", "SEK".into()),
            ("amount", kronor),
            ("field", "payment-0".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (status, html) = get(&server, &client, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Betalningen är registrerad"), "{location}");
    assert!(html.contains("Betald"));

    // A debt, set and shown.
    let response = post(
        "/staff/reskontra/skuld",
        vec![
            ("form_token", token.clone()),
            ("tenant", tenant.clone()),
            ("amount", "1 250,50".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (_, html) = get(&server, &client, &location).await;
    assert!(html.contains("data-debt=\"125050\""), "{location}");

    // A forged post (no token, or another origin) changes nothing.
    let response = client
        .post(server.url("/staff/reskontra/skuld"))
        .header("origin", "https://elsewhere.example")
        .form(&[
            ("form_token", token.as_str()),
            ("tenant", tenant.as_str()),
            ("amount", "0"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Nobody's ledger is a page that says so.
    let (status, _) = get(&server, &client, "/staff/reskontra?hyresgast=nobody").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(
        &server,
        &client,
        "/staff/reskontra?hyresgast=gid%3A%2F%2Ftillval%2FTenant%2Fno-such-tenant",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn staff_edit_an_option_in_the_page_and_tenants_see_it() {
    let server = common::start().await;
    let client = staff_client(&server).await;
    let (status, html) = get(&server, &client, "/staff/katalog").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("fastighet=gid%3A%2F%2Ftillval%2FProperty%2Fekbacken"),
        "{html}"
    );
    let property = "/staff/katalog?fastighet=gid%3A%2F%2Ftillval%2FProperty%2Fekbacken";
    let (_, html) = get(
        &server,
        &client,
        &format!("{property}&tillval=dm-bosch-serie4"),
    )
    .await;
    assert!(
        html.contains("value=\"dm-bosch-serie4\""),
        "the form holds the option"
    );
    let token = form_token(&html);
    let field = |name: &str| -> String {
        let marker = format!("name=\"{name}\"");
        let at = html.find(&marker).unwrap_or_else(|| panic!("no {name}"));
        let tag_end = html[at..].find('>').unwrap() + at;
        let tag = &html[at..tag_end];
        tag.split("value=\"")
            .nth(1)
            .and_then(|v| v.split('"').next())
            .unwrap_or("")
            .replace("&amp;", "&")
            .replace("&quot;", "\"")
    };
    let selected = |name: &str| -> String {
        let at = html.find(&format!("name=\"{name}\"")).unwrap();
        let rest = &html[at..];
        let selected = rest.find(" selected").unwrap();
        let start = rest[..selected].rfind("value=\"").unwrap() + 7;
        rest[start..].split('"').next().unwrap().to_owned()
    };
    let mut form: Vec<(&str, String)> = vec![("form_token", token.clone())];
    for name in [
        "property",
        "editing",
        "currency",
        "more_pictures",
        "handle",
        "name",
        "thumbnail",
        "large",
        "alt",
        "one_time_fee",
        "max_quantity",
        "position",
    ] {
        form.push((name, field(name)));
    }
    form.push(("category", selected("category")));
    form.push(("space", selected("space")));
    form.push(("description", "Tyst och snål.".into()));
    form.push(("unit", "SINGLE".into()));
    let post = |fields: Vec<(&str, String)>| {
        client
            .post(server.url("/staff/katalog"))
            .header("origin", server.url(""))
            .form(&fields)
            .send()
    };
    // Bad amounts and numbers: the page again, each error at its field, nothing saved.
    let mut bad = form.clone();
    bad.push(("monthly_price", "gratis".into()));
    bad.retain(|(k, _)| *k != "position");
    bad.push(("position", "-1".into()));
    let response = post(bad).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("href=\"#monthlyPrice\""));
    assert!(page.contains("href=\"#position\""));
    assert!(page.contains("value=\"gratis\""), "what was typed is kept");
    // What the API refuses (a picture that is not a URL): at its field.
    let mut bad = form.clone();
    bad.retain(|(k, _)| *k != "thumbnail");
    bad.push(("thumbnail", "javascript:alert(1)".into()));
    bad.push(("monthly_price", "199".into()));
    let response = post(bad).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("error-summary"));
    // A good one: saved, the redirect's page says so, and a tenant's catalogue has the price.
    let mut good = form.clone();
    good.push(("monthly_price", "199".into()));
    let response = post(good).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (_, page) = get(&server, &client, &location).await;
    assert!(page.contains("är sparat"), "{location}");
    assert!(page.contains("data-price=\"19900\""));
    let anna = server.token("anna-svensson");
    let seen = server
        .data(
            Some(&anna),
            "query($id: ID!) { catalogue(rentalObjectId: $id) { categories { options { id monthlyPrice { amount } } } } }",
            json!({ "id": "gid://tillval/RentalObject/lgh-1002" }),
        )
        .await;
    let price = seen["catalogue"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["options"].as_array().unwrap())
        .find(|o| o["id"] == "gid://tillval/AddOnOption/dm-bosch-serie4")
        .map(|o| o["monthlyPrice"]["amount"].clone());
    assert_eq!(price, Some(json!(19900)));
    // An empty form adds an option under a new key: saved, listed, and the form's own
    // category and space are what the page offered.
    let (_, html) = get(&server, &client, property).await;
    let token = form_token(&html);
    let mut added: Vec<(&str, String)> = form
        .iter()
        .filter(|(k, _)| {
            ![
                "form_token",
                "editing",
                "handle",
                "name",
                "more_pictures",
                "description",
            ]
            .contains(k)
        })
        .cloned()
        .collect();
    added.extend([
        ("form_token", token),
        ("editing", String::new()),
        ("handle", "dm-tyst-45".into()),
        ("name", "Tyst diskmaskin, 45 cm".into()),
        ("description", String::new()),
        ("monthly_price", "249,50".into()),
    ]);
    let response = post(added).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (_, page) = get(&server, &client, &location).await;
    assert!(
        page.contains("Tyst diskmaskin, 45 cm är sparat"),
        "{location}"
    );
    assert!(page.contains("data-option=\"dm-tyst-45\""));
    assert!(page.contains("data-price=\"24950\""));
    // Unknown properties are a page that says so.
    let (status, _) = get(&server, &client, "/staff/katalog?fastighet=nowhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A confirmation is only ever of an option that exists: text in the URL is not shown.
    let (_, page) = get(&server, &client, &format!("{property}&klart=Hej%20hej")).await;
    assert!(!page.contains("Hej hej"));
}

#[tokio::test]
async fn the_decision_page_explains_and_its_filters_refuse_what_is_not_a_filter() {
    let server = common::start().await;
    // Bertil (a debt) tries to order: a refusal in the log.
    let bertil = server.token("bertil-lind");
    let added = server
        .data(
            Some(&bertil),
            "mutation($r: ID!, $o: ID!) { cartLinesAdd(rentalObjectId: $r, lines: [{ optionId: $o, quantity: 1 }]) { userErrors { code } } }",
            json!({ "r": "gid://tillval/RentalObject/lgh-1004", "o": "gid://tillval/AddOnOption/dm-bosch-serie4" }),
        )
        .await;
    assert_ne!(added["cartLinesAdd"]["userErrors"], json!([]), "{added}");

    let client = staff_client(&server).await;
    let (status, html) = get(&server, &client, "/staff/beslut").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("objekt=gid%3A%2F%2Ftillval%2FRentalObject%2Flgh%2D1004"));
    let here = "/staff/beslut?hyresgast=gid%3A%2F%2Ftillval%2FTenant%2Fbertil-lind&objekt=gid%3A%2F%2Ftillval%2FRentalObject%2Flgh-1004";
    let (status, html) = get(&server, &client, here).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Beslut: Bertil Lind"));
    assert!(html.contains("data-gate=\"closed\""));
    assert!(html.contains("order_blocks"), "what decided it");
    assert!(
        html.contains("data-decisions=\"1\""),
        "the refusal is in the log"
    );

    let (_, html) = get(
        &server,
        &client,
        &format!("{here}&handling=checkout_submit"),
    )
    .await;
    assert!(html.contains("data-decisions=\"0\""));
    let (_, html) = get(
        &server,
        &client,
        &format!("{here}&handling=cart_add&kod=DEBT"),
    )
    .await;
    assert!(
        html.contains("data-decisions=\"1\""),
        "filtered by the code it carried"
    );
    let (_, html) = get(&server, &client, &format!("{here}&kod=UNPAID_FEE")).await;
    assert!(html.contains("data-decisions=\"0\""));

    for bad in ["&kod=%25", "&kod=a%22b", "&handling=drop_table"] {
        let (status, html) = get(&server, &client, &format!("{here}{bad}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(html.contains("error-summary"), "{bad}");
        assert!(
            html.contains("data-gate=\"closed\""),
            "{bad}: the explanation stays"
        );
    }
    // Someone else's apartment, or nobody's: not found, nothing shown.
    for other in [
        "/staff/beslut?hyresgast=gid%3A%2F%2Ftillval%2FTenant%2Fbertil-lind&objekt=gid%3A%2F%2Ftillval%2FRentalObject%2Flgh-1002",
        "/staff/beslut?hyresgast=x&objekt=y",
    ] {
        let (status, _) = get(&server, &client, other).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{other}");
    }
}
