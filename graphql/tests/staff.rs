//! Staff operations over HTTP: a catalogue change reaches tenants at once (the cache is told),
//! a debt closes the gate, a payment frees a key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::json;

const OPTION_STATUS: &str = r#"query($id: ID!) { catalogue(rentalObjectId: $id) { gate { open }
    categories { options { id name monthlyPrice { amount } availability { status reasons { code } } } } } }"#;

fn find<'a>(data: &'a serde_json::Value, option: &str) -> Option<&'a serde_json::Value> {
    data["catalogue"]["categories"]
        .as_array()?
        .iter()
        .flat_map(|c| c["options"].as_array().into_iter().flatten())
        .find(|o| o["id"] == option_id(option))
}

#[tokio::test]
async fn an_upserted_option_is_seen_by_tenants_at_once() {
    let server = start().await;
    let (anna, staff) = (server.token("anna-svensson"), server.staff_token());
    let lgh = object_id("lgh-1002");
    // Warm the cache first, so that seeing the change proves the invalidation.
    assert!(
        find(
            &server
                .data(Some(&anna), OPTION_STATUS, json!({ "id": lgh }))
                .await,
            "golv-terrazzo-hall"
        )
        .is_none()
    );
    let upsert = r#"mutation($p: ID!, $input: AddOnOptionInput!) { catalogueOptionUpsert(propertyId: $p, input: $input) {
        option { id name } userErrors { code field message } } }"#;
    let input = json!({ "handle": "golv-terrazzo-hall", "categoryId": "gid://tillval/Category/golv", "spaceId": "gid://tillval/Space/hall",
        "name": "Terrazzo", "pictures": [{ "thumbnail": "/pictures/t-thumb.svg", "large": "/pictures/t.svg" }],
        "monthlyPrice": { "amount": 25900, "currency": "SEK" }, "oneTimeFee": { "amount": 300000, "currency": "SEK" }, "unit": "SINGLE" });
    let data = server
        .data(
            Some(&staff),
            upsert,
            json!({ "p": "gid://tillval/Property/ekbacken", "input": input }),
        )
        .await;
    assert_eq!(data["catalogueOptionUpsert"]["userErrors"], json!([]));
    let seen = server
        .data(Some(&anna), OPTION_STATUS, json!({ "id": lgh }))
        .await;
    let option = find(&seen, "golv-terrazzo-hall").expect("the new option is in the catalogue");
    assert_eq!(option["monthlyPrice"]["amount"], 25900);
    assert_eq!(option["availability"]["status"], "AVAILABLE");
    // A bad one is a user error: no picture, unknown category.
    let mut bad = input.clone();
    bad["pictures"] = json!([]);
    let data = server
        .data(
            Some(&staff),
            upsert,
            json!({ "p": "gid://tillval/Property/ekbacken", "input": bad }),
        )
        .await;
    assert_eq!(
        data["catalogueOptionUpsert"]["userErrors"][0]["code"],
        "INVALID_INPUT"
    );
    let mut bad = input;
    bad["categoryId"] = json!("gid://tillval/Category/bastu");
    let data = server
        .data(
            Some(&staff),
            upsert,
            json!({ "p": "gid://tillval/Property/ekbacken", "input": bad }),
        )
        .await;
    assert_eq!(
        data["catalogueOptionUpsert"]["userErrors"][0]["field"],
        json!(["category"])
    );
}

#[tokio::test]
async fn a_debt_closes_the_gate_and_a_payment_frees_a_key() {
    let server = start().await;
    let (anna, david, staff) = (
        server.token("anna-svensson"),
        server.token("david-ek"),
        server.staff_token(),
    );
    let set_debt = "mutation($t: ID!, $a: Int!) { ledgerDebtSet(tenantId: $t, amount: { amount: $a, currency: \"SEK\" }) { debt { formatted } userErrors { code } } }";
    server
        .data(
            Some(&staff),
            set_debt,
            json!({ "t": "gid://tillval/Tenant/anna-svensson", "a": 10000 }),
        )
        .await;
    let data = server
        .data(
            Some(&anna),
            OPTION_STATUS,
            json!({ "id": object_id("lgh-1002") }),
        )
        .await;
    assert_eq!(data["catalogue"]["gate"]["open"], false);
    server
        .data(
            Some(&staff),
            set_debt,
            json!({ "t": "gid://tillval/Tenant/anna-svensson", "a": 0 }),
        )
        .await;
    let data = server
        .data(
            Some(&anna),
            OPTION_STATUS,
            json!({ "id": object_id("lgh-1002") }),
        )
        .await;
    assert_eq!(data["catalogue"]["gate"]["open"], true);

    let fees = server.data(Some(&staff), "{ ledgerFees(tenantId: \"gid://tillval/Tenant/david-ek\") { id remaining { amount } } }", json!({})).await;
    let fee = &fees["ledgerFees"][0];
    let remaining = fee["remaining"]["amount"].as_i64().unwrap();
    let pay = "mutation($f: ID!, $a: Int!) { ledgerPaymentRecord(feeId: $f, amount: { amount: $a, currency: \"SEK\" }) { fee { remaining { amount } } userErrors { code field } } }";
    let too_much = server
        .data(
            Some(&staff),
            pay,
            json!({ "f": fee["id"], "a": remaining + 1 }),
        )
        .await;
    assert_eq!(
        too_much["ledgerPaymentRecord"]["userErrors"][0]["code"],
        "INVALID_INPUT"
    );
    let paid = server
        .data(Some(&staff), pay, json!({ "f": fee["id"], "a": remaining }))
        .await;
    assert_eq!(paid["ledgerPaymentRecord"]["fee"]["remaining"]["amount"], 0);
    let data = server
        .data(
            Some(&david),
            OPTION_STATUS,
            json!({ "id": object_id("lgh-1006") }),
        )
        .await;
    assert_eq!(
        find(&data, "golv-ek-1stav-hall").unwrap()["availability"]["status"],
        "AVAILABLE"
    );
}

#[tokio::test]
async fn staff_read_a_cases_decision_receipt_and_tenants_cannot() {
    let server = start().await;
    let eva = server.token("eva-nilsson");
    let sent = server
        .data(
            Some(&eva),
            "mutation($id: ID!) { checkoutSubmit(rentalObjectId: $id, input: { acceptTerms: true, termsVersion: 1, idempotencyKey: \"receipt-graphql-1\" }) { case { number } userErrors { code } } }",
            json!({ "id": object_id("lgh-2004") }),
        )
        .await;
    let number = sent["checkoutSubmit"]["case"]["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let query = "query($n: String!) { case(number: $n) { decisionReceipt { ruleSet facts } } }";
    let staff = server
        .data(Some(&server.staff_token()), query, json!({ "n": number }))
        .await;
    let receipt = &staff["case"]["decisionReceipt"];
    assert!(
        receipt["ruleSet"].as_str().unwrap().contains("tillval"),
        "{receipt}"
    );
    let facts: serde_json::Value =
        serde_json::from_str(receipt["facts"].as_str().unwrap()).unwrap();
    assert_eq!(facts["debt"]["amount"], 0);
    let tenant = server.gql(Some(&eva), query, json!({ "n": number })).await;
    assert_eq!(error_codes(&tenant), vec!["FORBIDDEN"]);
}

#[tokio::test]
async fn staff_have_a_queue_of_every_tenants_cases_and_tenants_do_not() {
    let server = start().await;
    let staff = server.staff_token();
    let query = "query($s: CaseStatus) { caseQueue(first: 50, status: $s) { nodes { number status nextStatuses } } }";
    let all = server.data(Some(&staff), query, json!({ "s": null })).await;
    let nodes = all["caseQueue"]["nodes"].as_array().unwrap().clone();
    assert!(
        nodes.len() >= 2,
        "the demo's seeded cases of two tenants: {all}"
    );
    let submitted = server
        .data(Some(&staff), query, json!({ "s": "INSTALLED" }))
        .await;
    for case in submitted["caseQueue"]["nodes"].as_array().unwrap() {
        assert_eq!(case["status"], "INSTALLED");
    }
    // Staff's moves, not a tenant's.
    let under_review = nodes
        .iter()
        .find(|c| c["status"] == "SUBMITTED" || c["status"] == "UNDER_REVIEW");
    if let Some(case) = under_review {
        assert!(
            case["nextStatuses"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s == "REJECTED"),
            "{case}"
        );
    }
    let bad = server
        .gql(
            Some(&staff),
            "{ caseQueue(first: 0) { nodes { number } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&bad), vec!["BAD_USER_INPUT"]);
    let tenant = server
        .gql(
            Some(&server.token("anna-svensson")),
            query,
            json!({ "s": null }),
        )
        .await;
    assert_eq!(error_codes(&tenant), vec!["FORBIDDEN"]);
}

#[tokio::test]
async fn the_workbench_reads_refuse_bad_ids_cursors_pages_and_filters() {
    let server = start().await;
    let staff = server.staff_token();
    let cases = [
        (
            "{ ledgerAccount(tenantId: \"anna-svensson\") { tenantName } }",
            "NOT_FOUND",
        ),
        (
            "{ ledgerAccount(tenantId: \"gid://tillval/Tenant/no-such-one\") { tenantName } }",
            "NOT_FOUND",
        ),
        (
            "{ propertyCatalogue(propertyId: \"gid://tillval/RentalObject/lgh-1002\") { currency } }",
            "NOT_FOUND",
        ),
        (
            "{ propertyCatalogue(propertyId: \"gid://tillval/Property/nowhere\") { currency } }",
            "NOT_FOUND",
        ),
        (
            "{ households(first: 0) { nodes { address } } }",
            "BAD_USER_INPUT",
        ),
        (
            "{ households(first: 101) { nodes { address } } }",
            "BAD_USER_INPUT",
        ),
        (
            "{ households(after: \"cases:12\") { nodes { address } } }",
            "BAD_USER_INPUT",
        ),
        (
            "{ households(after: \"households:[\\\"a b\\\",\\\"c\\\"]\") { nodes { address } } }",
            "BAD_USER_INPUT",
        ),
        (
            "{ decisions(tenantId: \"gid://tillval/Tenant/bertil-lind\", action: \"drop\") { nodes { at } } }",
            "BAD_USER_INPUT",
        ),
        (
            "{ decisions(tenantId: \"gid://tillval/Tenant/bertil-lind\", reasonCode: \"%\") { nodes { at } } }",
            "BAD_USER_INPUT",
        ),
        (
            "{ decisions(tenantId: \"gid://tillval/Tenant/bertil-lind\", rentalObjectId: \"lgh-1004\") { nodes { at } } }",
            "NOT_FOUND",
        ),
    ];
    for (query, code) in cases {
        let value = server.gql(Some(&staff), query, json!({})).await;
        assert_eq!(error_codes(&value), [code], "{query}: {value}");
    }
    // And what they answer: the directory pages on; an account has its debt.
    let first = server
        .data(
            Some(&staff),
            "{ households(first: 2) { nodes { tenantName address } pageInfo { hasNextPage endCursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(first["households"]["pageInfo"]["hasNextPage"], true);
    let next = server
        .data(
            Some(&staff),
            "query($a: String) { households(first: 2, after: $a) { nodes { tenantName } } }",
            json!({ "a": first["households"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(next["households"]["nodes"].as_array().unwrap().len(), 2);
    assert_ne!(
        next["households"]["nodes"][0],
        first["households"]["nodes"][0]
    );
    let bertil = server
        .data(
            Some(&staff),
            "{ ledgerAccount(tenantId: \"gid://tillval/Tenant/bertil-lind\") { tenantName debt { amount currency } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        bertil["ledgerAccount"],
        json!({ "tenantName": "Bertil Lind", "debt": { "amount": 185000, "currency": "SEK" } })
    );
}

#[tokio::test]
async fn staff_add_a_webhook_endpoint_whose_secret_is_shown_once_and_tenants_cannot() {
    let server = start().await;
    let staff = server.staff_token();
    let create = "mutation($url: String!) { webhookEndpointCreate(input: { url: $url, description: \"TF\" }) { endpoint { id url enabled } secret userErrors { code field } } }";
    let made = server
        .data(
            Some(&staff),
            create,
            json!({ "url": "https://tf.example/hooks" }),
        )
        .await;
    let payload = &made["webhookEndpointCreate"];
    assert_eq!(payload["userErrors"], json!([]));
    assert!(payload["secret"].as_str().unwrap().starts_with("whsec_"));
    let id = payload["endpoint"]["id"].clone();
    // Listed, and nothing of the secret anywhere in what staff can read.
    let listed = server
        .data(
            Some(&staff),
            "{ webhookEndpoints { id url enabled description } outboxStatus { pending dead } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["webhookEndpoints"][0]["id"], id);
    assert!(
        !listed
            .to_string()
            .contains(payload["secret"].as_str().unwrap())
    );
    let asked = server
        .gql(Some(&staff), "{ webhookEndpoints { secret } }", json!({}))
        .await;
    assert!(asked["errors"].is_array(), "a secret field exists: {asked}");
    // Bad URLs are user errors at `url`.
    for bad in [
        "ftp://tf.example/",
        "tf.example/hooks",
        "https://u:p@tf.example/",
        "",
    ] {
        let refused = server
            .data(Some(&staff), create, json!({ "url": bad }))
            .await;
        assert_eq!(
            refused["webhookEndpointCreate"]["userErrors"][0]["field"],
            json!(["url"]),
            "{bad}: {refused}"
        );
        assert!(refused["webhookEndpointCreate"]["secret"].is_null());
    }
    // Switched off; replaying nothing dead is 0; ids that are not ids are not found.
    let off = server
        .data(
            Some(&staff),
            "mutation($id: ID!) { webhookEndpointSetEnabled(endpointId: $id, enabled: false) { endpoint { enabled } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        off["webhookEndpointSetEnabled"]["endpoint"]["enabled"],
        false
    );
    let replay = server
        .data(
            Some(&staff),
            "mutation($id: ID!) { webhookReplay(endpointId: $id) { replayed } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(replay["webhookReplay"]["replayed"], 0);
    for query in [
        "mutation { webhookReplay(endpointId: \"gid://tillval/WebhookEndpoint/x\") { replayed } }",
        "mutation { webhookEndpointSetEnabled(endpointId: \"gid://tillval/WebhookEndpoint/999\", enabled: true) { endpoint { id } } }",
        "{ webhookDeadLetters(endpointId: \"gid://tillval/Case/1\") { webhookId } }",
    ] {
        let value = server.gql(Some(&staff), query, json!({})).await;
        assert_eq!(error_codes(&value), ["NOT_FOUND"], "{query}: {value}");
    }
    // A tenant gets none of it.
    let anna = server.token("anna-svensson");
    for query in [
        "{ webhookEndpoints { id } }",
        "{ outboxStatus { pending } }",
        "mutation { webhookEndpointCreate(input: { url: \"https://evil.example/\" }) { secret } }",
    ] {
        let value = server.gql(Some(&anna), query, json!({})).await;
        assert_eq!(error_codes(&value), ["FORBIDDEN"], "{query}: {value}");
    }
}
