//! The seed walkthrough end to end over real HTTP: the free tenant goes S6 → S7 → S9 → S10 →
//! S8 → S12 → S13 (refused without acceptance) → S14 → S15 → S16; the debt, ongoing-order and
//! unpaid-fee tenants get their refusals with codes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::{Value, json};

const CATALOGUE: &str = r#"query($id: ID!) { catalogue(rentalObjectId: $id) {
    gate { open reasons { code message } }
    articleCount
    categories { id name options { id name description space { name } unit maxQuantity
        pictures { thumbnail large }
        monthlyPrice { amount currency formatted } oneTimeFee { amount }
        availability { status reasons { code message params { name value } } } } } } }"#;

const ADD: &str = r#"mutation($id: ID!, $lines: [CartLineInput!]!) { cartLinesAdd(rentalObjectId: $id, lines: $lines) {
    cart { articleCount monthlyTotal { amount formatted } lines { option { id } quantity } }
    userErrors { code field message reasons { code message } } } }"#;

const SUBMIT: &str = r#"mutation($id: ID!, $input: CheckoutSubmitInput!) { checkoutSubmit(rentalObjectId: $id, input: $input) {
    replayed case { number status lines { name quantity monthlyPrice { amount } } }
    userErrors { code field message reasons { code } } } }"#;

fn option<'a>(catalogue: &'a Value, id: &str) -> &'a Value {
    catalogue["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["options"].as_array().unwrap().iter())
        .find(|o| o["id"] == option_id(id))
        .unwrap_or_else(|| panic!("{id} not in the catalogue"))
}

#[tokio::test]
async fn the_free_tenant_walks_the_whole_seed() {
    let server = start().await;
    let anna = server.token("anna-svensson");
    let lgh = object_id("lgh-1002");

    // S1: the viewer and their apartment.
    let viewer = server
        .data(
            Some(&anna),
            "{ viewer { tenant { name } rentalObjects { id spaces { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(viewer["viewer"]["tenant"]["name"], "Anna Svensson");
    assert_eq!(viewer["viewer"]["rentalObjects"][0]["id"], lgh);

    // S6: the categories with an add-on possible for the apartment, in the landlord's order.
    let data = server
        .data(Some(&anna), CATALOGUE, json!({ "id": lgh }))
        .await;
    let catalogue = &data["catalogue"];
    assert_eq!(catalogue["gate"]["open"], true);
    assert_eq!(catalogue["articleCount"], 0);
    let names: Vec<&str> = catalogue["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Diskmaskin",
            "Tvättmaskin",
            "Torktumlare",
            "Golv",
            "Kakel",
            "Belysning",
            "Förvaring"
        ]
    );
    // S7: name, description, pictures, price per month, space.
    let dishwasher = option(catalogue, "dm-bosch-serie4");
    assert_eq!(dishwasher["monthlyPrice"]["amount"], 9900);
    assert_eq!(dishwasher["monthlyPrice"]["formatted"], "99,00\u{a0}kr");
    assert!(dishwasher["pictures"].as_array().unwrap().len() >= 2);
    assert!(
        dishwasher["pictures"][0]["large"]
            .as_str()
            .unwrap()
            .ends_with(".svg")
    );
    assert_eq!(dishwasher["space"]["name"], "Kök");
    assert_eq!(dishwasher["availability"]["status"], "AVAILABLE");

    // S9: spotlights by the piece, 3 of them; a dishwasher, one.
    let added = server
        .data(
            Some(&anna),
            ADD,
            json!({ "id": lgh, "lines": [
        { "optionId": option_id("bel-spotlight-kitchen"), "quantity": 3 },
        { "optionId": option_id("dm-bosch-serie4"), "quantity": 1 } ] }),
        )
        .await;
    let payload = &added["cartLinesAdd"];
    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["cart"]["articleCount"], 4);

    // S10: the other dishwashers are locked, with the reason; adding one is a user error.
    let data = server
        .data(Some(&anna), CATALOGUE, json!({ "id": lgh }))
        .await;
    let locked = option(&data["catalogue"], "dm-miele-g5000");
    assert_eq!(locked["availability"]["status"], "LOCKED_BY_CART");
    assert_eq!(
        locked["availability"]["reasons"][0]["code"],
        "LOCKED_BY_CART"
    );
    assert!(
        locked["availability"]["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Bosch Serie 4")
    );
    // S8: the article count from the category page.
    assert_eq!(data["catalogue"]["articleCount"], 4);
    let refused = server
        .data(
            Some(&anna),
            ADD,
            json!({ "id": lgh, "lines": [{ "optionId": option_id("dm-miele-g5000") }] }),
        )
        .await;
    let error = &refused["cartLinesAdd"]["userErrors"][0];
    assert_eq!(error["code"], "NOT_ORDERABLE");
    assert_eq!(error["reasons"][0]["code"], "LOCKED_BY_CART");
    assert_eq!(error["field"], json!(["lines", "0"]));

    // S9 again and S12: change a quantity, set details, remove a line.
    let updated = server
        .data(Some(&anna), r#"mutation($id: ID!) { cartLinesUpdate(rentalObjectId: $id, lines: [{ optionId: "gid://tillval/AddOnOption/bel-spotlight-kitchen", quantity: 5 }]) { cart { articleCount } userErrors { code } } }"#, json!({ "id": lgh }))
        .await;
    assert_eq!(updated["cartLinesUpdate"]["cart"]["articleCount"], 6);
    let details = server
        .data(Some(&anna), r#"mutation($id: ID!) { checkoutDetailsUpdate(rentalObjectId: $id, details: { contactPhone: "070-123 45 67", message: "Ring innan" }) { cart { checkoutDetails { contactPhone message } } userErrors { code } } }"#, json!({ "id": lgh }))
        .await;
    assert_eq!(
        details["checkoutDetailsUpdate"]["cart"]["checkoutDetails"]["message"],
        "Ring innan"
    );
    let removed = server
        .data(Some(&anna), r#"mutation($id: ID!) { cartLinesRemove(rentalObjectId: $id, optionIds: ["gid://tillval/AddOnOption/bel-spotlight-kitchen"]) { cart { articleCount lines { option { id } } } userErrors { code } } }"#, json!({ "id": lgh }))
        .await;
    assert_eq!(removed["cartLinesRemove"]["cart"]["articleCount"], 1);

    // S13: the terms; sending without accepting them is refused.
    let terms = server
        .data(None, "{ terms { version text } }", json!({}))
        .await;
    let version = terms["terms"]["version"].as_i64().unwrap();
    let not_accepted = server.data(Some(&anna), SUBMIT, json!({ "id": lgh, "input": { "acceptTerms": false, "termsVersion": version, "idempotencyKey": "walkthrough-1" } })).await;
    let error = &not_accepted["checkoutSubmit"]["userErrors"][0];
    assert_eq!(error["code"], "TERMS_NOT_ACCEPTED");
    assert_eq!(error["field"], json!(["input", "acceptTerms"]));
    assert_eq!(not_accepted["checkoutSubmit"]["case"], Value::Null);

    // S14: sent; a case with a number.
    let sent = server.data(Some(&anna), SUBMIT, json!({ "id": lgh, "input": { "acceptTerms": true, "termsVersion": version, "idempotencyKey": "walkthrough-1" } })).await;
    let case = &sent["checkoutSubmit"]["case"];
    assert_eq!(sent["checkoutSubmit"]["userErrors"], json!([]));
    assert_eq!(case["status"], "SUBMITTED");
    let number = case["number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("TV-"));
    // Sent again with the same key: the same case.
    let again = server.data(Some(&anna), SUBMIT, json!({ "id": lgh, "input": { "acceptTerms": true, "termsVersion": version, "idempotencyKey": "walkthrough-1" } })).await;
    assert_eq!(again["checkoutSubmit"]["replayed"], true);
    assert_eq!(again["checkoutSubmit"]["case"]["number"], number);

    // S15: the tenant's cases.
    let cases = server
        .data(Some(&anna), "{ cases(first: 10) { edges { cursor node { number status } } pageInfo { hasNextPage } } }", json!({}))
        .await;
    assert_eq!(cases["cases"]["edges"][0]["node"]["number"], number);
    assert_eq!(cases["cases"]["pageInfo"]["hasNextPage"], false);
    // S16: one case's details.
    let detail = server
        .data(Some(&anna), r#"query($n: String!) { case(number: $n) { number status acceptedTermsVersion nextStatuses
            lines { name quantity monthlyPrice { amount formatted } } monthlyTotal { amount }
            history { status actor at } checkoutDetails { contactPhone } } }"#, json!({ "n": number }))
        .await;
    let detail = &detail["case"];
    assert_eq!(detail["lines"][0]["name"], "Bosch Serie 4, 60 cm");
    assert_eq!(detail["monthlyTotal"]["amount"], 9900);
    assert_eq!(detail["history"][0]["status"], "SUBMITTED");
    assert_eq!(detail["nextStatuses"], json!(["CANCELLED"]));
    assert_eq!(detail["acceptedTermsVersion"], version);
    assert_eq!(detail["checkoutDetails"]["contactPhone"], "070-123 45 67");
}

#[tokio::test]
async fn the_debt_ongoing_order_and_unpaid_fee_tenants_are_refused_with_their_codes() {
    let server = start().await;
    let cases = [
        ("bertil-lind", "lgh-1004", "dm-bosch-serie4", "DEBT"),
        (
            "cecilia-holm",
            "lgh-2002",
            "dm-electrolux-700",
            "ONGOING_ORDER",
        ),
        ("david-ek", "lgh-1006", "golv-ek-1stav-hall", "UNPAID_FEE"),
    ];
    for (tenant, lgh, option_raw, code) in cases {
        let token = server.token(tenant);
        let data = server
            .data(Some(&token), CATALOGUE, json!({ "id": object_id(lgh) }))
            .await;
        let option = option(&data["catalogue"], option_raw);
        assert_eq!(option["availability"]["status"], "BLOCKED", "{tenant}");
        assert_eq!(
            option["availability"]["reasons"][0]["code"], code,
            "{tenant}"
        );
        if code == "DEBT" {
            assert_eq!(data["catalogue"]["gate"]["open"], false);
            assert_eq!(data["catalogue"]["gate"]["reasons"][0]["code"], "DEBT");
        }
        let refused = server
            .data(
                Some(&token),
                ADD,
                json!({ "id": object_id(lgh), "lines": [{ "optionId": option_id(option_raw) }] }),
            )
            .await;
        let error = &refused["cartLinesAdd"]["userErrors"][0];
        assert_eq!(error["code"], "NOT_ORDERABLE", "{tenant}");
        assert_eq!(error["reasons"][0]["code"], code, "{tenant}");
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn messages_follow_accept_language() {
    let server = start().await;
    let token = server.token("bertil-lind");
    let query = json!({ "query": "{ catalogue(rentalObjectId: \"gid://tillval/RentalObject/lgh-1004\") { gate { reasons { message } } } }" }).to_string();
    for (language, needle) in [
        ("en-GB,en;q=0.9", "You have a debt of SEK 1,850.00"),
        ("sv", "Du har en skuld på 1\u{a0}850,00\u{a0}kr"),
    ] {
        let response = server
            .client
            .post(server.url("/graphql"))
            .header("authorization", format!("Bearer {token}"))
            .header("accept-language", language)
            .header("content-type", "application/json")
            .body(query.clone())
            .send()
            .await
            .unwrap();
        let value: Value = response.json().await.unwrap();
        let message = value["data"]["catalogue"]["gate"]["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.starts_with(needle), "{language}: {message}");
    }
}
