//! Bad input is a clear GraphQL error, never a panic or a 500: malformed JSON, an unknown
//! field, a wrong type, a 1 MB query, a query 50 levels deep, a batch, a negative quantity.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn malformed_requests_get_graphql_shaped_errors() {
    let server = start().await;
    let anna = server.token("anna-svensson");
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "malformed JSON",
            "{\"query\": \"{ terms { version } }\"".into(),
            400,
            "BAD_REQUEST",
        ),
        ("not a request", "[1, 2".into(), 400, "BATCH_NOT_SUPPORTED"),
        (
            "batch",
            json!([{ "query": "{ terms { version } }" }, { "query": "{ terms { version } }" }])
                .to_string(),
            400,
            "BATCH_NOT_SUPPORTED",
        ),
        ("no query", "{}".into(), 400, "BAD_REQUEST"),
        (
            "1 MB query",
            json!({ "query": format!("{{ terms {{ version }} }} #{}", "x".repeat(1024 * 1024)) })
                .to_string(),
            413,
            "PAYLOAD_TOO_LARGE",
        ),
    ];
    for (name, body, status, code) in cases {
        let (got_status, value) = server.raw(Some(&anna), body).await;
        assert_eq!(got_status, status, "{name}: {value}");
        assert_eq!(error_codes(&value), [code], "{name}: {value}");
        assert!(
            value["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{name}"
        );
    }
}

#[tokio::test]
async fn invalid_operations_are_validation_errors() {
    let server = start().await;
    let anna = server.token("anna-svensson");
    let deep = format!(
        "{{ __schema {{ types {{ {}name{} }} }} }}",
        "ofType { ".repeat(50),
        " }".repeat(50)
    );
    let cases = [
        (
            "unknown field",
            "{ terms { version nonsense } }".to_owned(),
            json!({}),
        ),
        (
            "wrong type",
            "{ cases(first: \"ten\") { edges { cursor } } }".to_owned(),
            json!({}),
        ),
        (
            "wrong variable type",
            "query($n: Int!) { case(number: $n) { status } }".to_owned(),
            json!({ "n": 5 }),
        ),
        ("50 levels deep", deep, json!({})),
        ("syntax", "{ terms { version }".to_owned(), json!({})),
    ];
    for (name, query, variables) in cases {
        let value = server.gql(Some(&anna), &query, variables).await;
        assert_eq!(
            error_codes(&value),
            ["GRAPHQL_VALIDATION_FAILED"],
            "{name}: {value}"
        );
    }
    let value = server
        .gql(
            Some(&anna),
            &format!(
                "{{ __schema {{ types {{ {}name{} }} }} }}",
                "ofType { ".repeat(50),
                " }".repeat(50)
            ),
            json!({}),
        )
        .await;
    assert!(
        value["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("depth"),
        "{value}"
    );
}

#[tokio::test]
async fn bad_values_are_user_errors_or_not_found() {
    let server = start().await;
    let anna = server.token("anna-svensson");
    let lgh = object_id("lgh-1002");
    let add = "mutation($id: ID!, $q: Int!, $o: ID!) { cartLinesAdd(rentalObjectId: $id, lines: [{ optionId: $o, quantity: $q }]) { cart { articleCount } userErrors { code field message } } }";
    for q in [-1, 0, 100, 9] {
        let data = server
            .data(
                Some(&anna),
                add,
                json!({ "id": lgh, "q": q, "o": option_id("bel-spotlight-kitchen") }),
            )
            .await;
        let error = &data["cartLinesAdd"]["userErrors"][0];
        assert_eq!(error["code"], "INVALID_INPUT", "quantity {q}");
        assert_eq!(
            error["field"],
            json!(["lines", "0", "quantity"]),
            "quantity {q}"
        );
        assert_eq!(data["cartLinesAdd"]["cart"]["articleCount"], 0);
    }
    // An option id that is not one: a user error on the line.
    let data = server
        .data(
            Some(&anna),
            add,
            json!({ "id": lgh, "q": 1, "o": "dm-bosch-serie4" }),
        )
        .await;
    assert_eq!(data["cartLinesAdd"]["userErrors"][0]["code"], "NOT_FOUND");
    // A rental object id of the wrong kind, or garbage: not found.
    for id in [
        "gid://tillval/Case/lgh-1002",
        "lgh-1002",
        "gid://tillval/RentalObject/<script>",
    ] {
        let value = server
            .gql(
                Some(&anna),
                add,
                json!({ "id": id, "q": 1, "o": option_id("dm-bosch-serie4") }),
            )
            .await;
        assert_eq!(error_codes(&value), ["NOT_FOUND"], "{id}: {value}");
    }
    // A bad idempotency key, a bad phone number, a past date, a bad cursor, a bad page size.
    let submit = "mutation($id: ID!) { checkoutSubmit(rentalObjectId: $id, input: { acceptTerms: true, termsVersion: 1, idempotencyKey: \"short\" }) { case { number } userErrors { code field } } }";
    let data = server.data(Some(&anna), submit, json!({ "id": lgh })).await;
    assert_eq!(
        data["checkoutSubmit"]["userErrors"][0]["field"],
        json!(["idempotencyKey"])
    );
    let details = "mutation($id: ID!, $p: String, $d: NaiveDate) { checkoutDetailsUpdate(rentalObjectId: $id, details: { contactPhone: $p, preferredDate: $d }) { userErrors { code field } } }";
    let data = server
        .data(Some(&anna), details, json!({ "id": lgh, "p": "call me" }))
        .await;
    assert_eq!(
        data["checkoutDetailsUpdate"]["userErrors"][0]["code"],
        "INVALID_INPUT"
    );
    let data = server
        .data(
            Some(&anna),
            details,
            json!({ "id": lgh, "d": "2001-01-01" }),
        )
        .await;
    assert_eq!(
        data["checkoutDetailsUpdate"]["userErrors"][0]["code"],
        "INVALID_INPUT"
    );
    let value = server
        .gql(
            Some(&anna),
            "{ cases(after: \"nope\") { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&value), ["BAD_USER_INPUT"]);
    let value = server
        .gql(
            Some(&anna),
            "{ cases(first: 1000) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&value), ["BAD_USER_INPUT"]);
    let value = server
        .gql(
            Some(&anna),
            "{ case(number: \"DROP TABLE cases\") { status } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&value), ["NOT_FOUND"]);
}

#[tokio::test]
async fn production_mode_hides_the_schema() {
    let server = start_with(true).await;
    let anna = server.token("anna-svensson");
    let value = server
        .gql(Some(&anna), "{ __schema { types { name } } }", json!({}))
        .await;
    assert!(
        value["data"]["__schema"].is_null(),
        "introspection is off: {value}"
    );
    let value = server
        .gql(Some(&anna), "{ term { version } }", json!({}))
        .await;
    let message = value["errors"][0]["message"].as_str().unwrap();
    assert!(
        !message.contains("Did you mean"),
        "no suggestions: {message}"
    );
    assert_eq!(
        server
            .client
            .get(server.url("/graphiql"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // Nor the demo's drawn pictures: a landlord's pictures are addresses of their own.
    let picture = "/pictures/dm-bosch-serie4-1.svg";
    let status = |server: &TestServer| {
        let request = server.client.get(server.url(picture));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(&server).await, 404);
    // Outside production the same misspelling is helped, and GraphiQL is served.
    let dev = start().await;
    assert_eq!(status(&dev).await, 200);
    let value = dev
        .gql(Some(&anna), "{ term { version } }", json!({}))
        .await;
    assert!(
        value["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Did you mean"),
        "{value}"
    );
    assert_eq!(
        dev.client
            .get(dev.url("/graphiql"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
