//! `importFacts` over HTTP (issue 15): staff and the `integration` role import; a tenant and
//! nobody cannot; the integration role still cannot read a cart or publish rules; a refused
//! batch answers every problem by line and field in the caller's language; a catalogue of a
//! thousand options (far past a tenant's 64 KiB body) goes in as one batch.

mod common;

use common::*;
use serde_json::{Value, json};
use tillval_graphql::auth::Role;

const IMPORT: &str = "mutation($data: String!, $format: ImportFormat) { importFacts(data: $data, format: $format) { accepted applied unchanged stale problemCount problems { line field code detail message } } }";

fn catalogue(options: usize) -> String {
    let mut lines = vec![
        r#"{"type":"property","id":"brf-stor","version":1,"name":"Brf Stor","currency":"SEK"}"#
            .to_owned(),
        r#"{"type":"category","id":"disk","version":1,"property":"brf-stor","name":"Diskmaskin"}"#
            .to_owned(),
    ];
    for n in 0..options {
        lines.push(format!(
            r#"{{"type":"option","id":"disk-{n}","version":1,"property":"brf-stor","category":"disk","space":"kok","name":"Diskmaskin {n}","description":"Inbyggd, 60 cm, energiklass C, tyst (42 dB).","monthly_price":{},"currency":"SEK","position":{n},"pictures":[{{"thumbnail":"https://bilder.example/disk-{n}-liten.jpg","large":"https://bilder.example/disk-{n}.jpg","alt":"Diskmaskin {n}"}}]}}"#,
            9_900 + n
        ));
    }
    lines.join("\n")
}

#[tokio::test]
async fn staff_and_the_integration_role_import_and_a_tenant_cannot() {
    let server = start().await;
    let staff = server.staff_token();
    let system = server.auth.issue("hyra", Role::Integration, 600).unwrap();
    let tenant = server.token("anna-svensson");

    // A thousand options: about 300 KiB, past a tenant's 64 KiB, in one batch.
    let big = catalogue(1_000);
    assert!(big.len() > 256 * 1024, "{}", big.len());
    let done = server
        .data(Some(&system), IMPORT, json!({ "data": big }))
        .await;
    assert_eq!(
        done["importFacts"],
        json!({ "accepted": true, "applied": 1_002, "unchanged": 0, "stale": 0, "problemCount": 0, "problems": [] })
    );
    let again = server
        .data(Some(&staff), IMPORT, json!({ "data": big }))
        .await;
    assert_eq!(again["importFacts"]["unchanged"], 1_002);

    // A tenant may not import: not a large body, not a small one.
    let (status, value) = server
        .raw(
            Some(&tenant),
            json!({ "query": IMPORT, "variables": { "data": big } }).to_string(),
        )
        .await;
    assert_eq!(status, 413, "{value}");
    let small = r#"{"type":"debt","id":"anna-svensson","version":1,"amount":0,"currency":"SEK"}"#;
    let value = server
        .gql(Some(&tenant), IMPORT, json!({ "data": small }))
        .await;
    assert_eq!(error_codes(&value), ["FORBIDDEN"], "{value}");
    let value = server.gql(None, IMPORT, json!({ "data": small })).await;
    assert_eq!(error_codes(&value), ["UNAUTHENTICATED"], "{value}");

    // The integration role imports, and still cannot read a cart or publish rules.
    for query in [
        "{ cart(rentalObjectId: \"gid://tillval/RentalObject/lgh-1001\") { lines { quantity } } }",
        "mutation { ruleSetPublish(source: { manifest: \"\", scripts: [] }) { ruleSet { version } } }",
    ] {
        let value = server.gql(Some(&system), query, json!({})).await;
        assert_eq!(error_codes(&value), ["FORBIDDEN"], "{query}: {value}");
    }
}

#[tokio::test]
async fn a_refused_batch_names_every_problem_in_the_callers_language() {
    let server = start().await;
    let staff = server.staff_token();
    let bad = [
        r#"{"type":"tenant","id":"kim-ek","version":1,"name":"Kim Ek"}"#,
        r#"{"type":"tenant","id":"kim ek","version":1,"name":"Kim Ek"}"#,
        r#"{"type":"debt","id":"kim-ek","version":"one","amount":-5,"currency":"SEK"}"#,
    ]
    .join("\n");
    let body = json!({ "query": IMPORT, "variables": { "data": bad } }).to_string();
    let response = server
        .client
        .post(server.url("/graphql"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {staff}"))
        .header("accept-language", "en")
        .body(body)
        .send()
        .await
        .unwrap();
    let value: Value = response.json().await.unwrap();
    let payload = &value["data"]["importFacts"];
    assert_eq!(payload["accepted"], false, "{value}");
    assert_eq!(payload["problemCount"], 3);
    let found: Vec<(u64, &str, &str)> = payload["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["field"].as_str().unwrap_or("-"),
                p["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (2, "id", "BAD_VALUE"),
            (3, "version", "BAD_VALUE"),
            (3, "amount", "BAD_VALUE")
        ]
    );
    assert!(
        payload["problems"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 2, field id"),
        "{payload}"
    );
    // Nothing changed: the good first line is not kept.
    let tenant = tillval_engine::model::TenantId::parse("kim-ek").unwrap();
    use tillval_services::store::Store;
    assert!(
        server
            .services
            .store()
            .tenant(&tenant)
            .await
            .unwrap()
            .is_none()
    );

    // CSV, in Swedish (the default).
    let csv = "type,id,version,name\ntenant,kim-ek,1,\n";
    let value = server
        .data(
            Some(&staff),
            IMPORT,
            json!({ "data": csv, "format": "CSV" }),
        )
        .await;
    let problem = &value["importFacts"]["problems"][0];
    assert_eq!(problem["code"], "MISSING_FIELD", "{value}");
    assert_eq!(problem["message"], "rad 2: fältet name saknas");
}
