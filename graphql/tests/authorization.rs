//! Identity comes only from the token. Another tenant's cart, case or apartment is "not
//! found" and nothing changes; no token is UNAUTHENTICATED (but for `terms`); a tenant calling
//! a staff mutation is FORBIDDEN; an expired or tampered token is refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::json;
use tillval_graphql::auth::{Auth, Role};

/// Eva's apartment, cart and Cecilia's case, tried by Anna.
#[tokio::test]
async fn another_tenants_ids_are_not_found_and_change_nothing() {
    let server = start().await;
    let anna = server.token("anna-svensson");
    let eva = server.token("eva-nilsson");
    let cecilia = server.token("cecilia-holm");
    let evas = object_id("lgh-2004");
    let cecilias_case = server
        .data(
            Some(&cecilia),
            "{ cases(first: 1) { edges { node { number } } } }",
            json!({}),
        )
        .await["cases"]["edges"][0]["node"]["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let eva_cart = || async {
        server.data(Some(&eva), "query($id: ID!) { cart(rentalObjectId: $id) { articleCount lines { quantity } checkoutDetails { message } } }", json!({ "id": evas })).await
    };
    let cecilia_case = || async {
        server
            .data(
                Some(&cecilia),
                "query($n: String!) { case(number: $n) { status history { status } } }",
                json!({ "n": cecilias_case }),
            )
            .await
    };
    let (cart_before, case_before) = (eva_cart().await, cecilia_case().await);

    let attempts = [
        (
            "query($id: ID!) { catalogue(rentalObjectId: $id) { gate { open } } }",
            json!({ "id": evas }),
        ),
        (
            "query($id: ID!) { cart(rentalObjectId: $id) { articleCount } }",
            json!({ "id": evas }),
        ),
        (
            "query($n: String!) { case(number: $n) { status } }",
            json!({ "n": cecilias_case }),
        ),
        (
            "mutation($id: ID!) { cartLinesAdd(rentalObjectId: $id, lines: [{ optionId: \"gid://tillval/AddOnOption/dm-bosch-serie4\" }]) { cart { articleCount } } }",
            json!({ "id": evas }),
        ),
        (
            "mutation($id: ID!) { cartLinesUpdate(rentalObjectId: $id, lines: [{ optionId: \"gid://tillval/AddOnOption/bel-spotlight-kitchen\", quantity: 1 }]) { cart { articleCount } } }",
            json!({ "id": evas }),
        ),
        (
            "mutation($id: ID!) { cartLinesRemove(rentalObjectId: $id, optionIds: [\"gid://tillval/AddOnOption/bel-spotlight-kitchen\"]) { cart { articleCount } } }",
            json!({ "id": evas }),
        ),
        (
            "mutation($id: ID!) { checkoutDetailsUpdate(rentalObjectId: $id, details: { message: \"hej\" }) { cart { articleCount } } }",
            json!({ "id": evas }),
        ),
        (
            "mutation($id: ID!) { checkoutSubmit(rentalObjectId: $id, input: { acceptTerms: true, termsVersion: 1, idempotencyKey: \"not-mine-1\" }) { case { number } } }",
            json!({ "id": evas }),
        ),
        (
            "mutation($n: String!) { caseCancel(number: $n) { case { status } } }",
            json!({ "n": cecilias_case }),
        ),
    ];
    for (query, variables) in attempts {
        let value = server.gql(Some(&anna), query, variables).await;
        assert_eq!(error_codes(&value), ["NOT_FOUND"], "{query}: {value}");
        assert!(
            value["data"].is_null()
                || value["data"]
                    .as_object()
                    .is_some_and(|d| d.values().all(|v| v.is_null())),
            "{value}"
        );
    }
    assert_eq!(eva_cart().await, cart_before);
    assert_eq!(cecilia_case().await, case_before);
}

#[tokio::test]
async fn without_a_token_only_terms_and_health_answer() {
    let server = start().await;
    let terms = server.gql(None, "{ terms { version } }", json!({})).await;
    assert!(terms["errors"].is_null(), "{terms}");
    for query in [
        "{ viewer { tenant { name } } }",
        "{ catalogue(rentalObjectId: \"gid://tillval/RentalObject/lgh-1002\") { gate { open } } }",
        "{ cart(rentalObjectId: \"gid://tillval/RentalObject/lgh-1002\") { articleCount } }",
        "{ cases { edges { cursor } } }",
        "{ case(number: \"TV-2026-000001\") { status } }",
        "mutation { caseCancel(number: \"TV-2026-000001\") { case { status } } }",
        "mutation { caseTransition(number: \"TV-2026-000001\", to: APPROVED) { case { status } } }",
    ] {
        let value = server.gql(None, query, json!({})).await;
        assert_eq!(error_codes(&value), ["UNAUTHENTICATED"], "{query}: {value}");
    }
    let health = server
        .client
        .get(server.url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(
        server
            .client
            .get(server.url("/ready"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_tenant_calling_staff_operations_is_forbidden() {
    let server = start().await;
    let anna = server.token("anna-svensson");
    for query in [
        "mutation { caseTransition(number: \"TV-2026-000001\", to: APPROVED) { case { status } } }",
        "mutation { ledgerDebtSet(tenantId: \"gid://tillval/Tenant/anna-svensson\", amount: { amount: 0, currency: \"SEK\" }) { debt { amount } } }",
        "mutation { ledgerPaymentRecord(feeId: \"gid://tillval/Fee/1\", amount: { amount: 100, currency: \"SEK\" }) { fee { id } } }",
        "mutation { catalogueOptionUpsert(propertyId: \"gid://tillval/Property/ekbacken\", input: { handle: \"x-1\", categoryId: \"gid://tillval/Category/golv\", spaceId: \"gid://tillval/Space/hall\", name: \"X\", pictures: [], monthlyPrice: { amount: 1, currency: \"SEK\" }, oneTimeFee: { amount: 0, currency: \"SEK\" }, unit: SINGLE }) { option { id } } }",
        "{ ledgerFees(tenantId: \"gid://tillval/Tenant/david-ek\") { id } }",
        "{ ledgerAccount(tenantId: \"gid://tillval/Tenant/anna-svensson\") { tenantName } }",
        "{ households { nodes { tenantName } } }",
        "{ properties { name } }",
        "{ propertyCatalogue(propertyId: \"gid://tillval/Property/ekbacken\") { currency } }",
        "{ decisions(tenantId: \"gid://tillval/Tenant/anna-svensson\", reasonCode: \"DEBT\") { nodes { at } } }",
    ] {
        let value = server.gql(Some(&anna), query, json!({})).await;
        assert_eq!(error_codes(&value), ["FORBIDDEN"], "{query}: {value}");
    }
    // And staff cannot act as a tenant.
    let value = server
        .gql(
            Some(&server.staff_token()),
            "{ viewer { tenant { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&value), ["FORBIDDEN"]);
    // Staff may move a case along.
    let cecilia = server.token("cecilia-holm");
    let number = server
        .data(
            Some(&cecilia),
            "{ cases { edges { node { number } } } }",
            json!({}),
        )
        .await["cases"]["edges"][0]["node"]["number"]
        .clone();
    let moved = server
        .data(Some(&server.staff_token()), "mutation($n: String!) { caseTransition(number: $n, to: APPROVED) { case { status nextStatuses } userErrors { code } } }", json!({ "n": number }))
        .await;
    assert_eq!(moved["caseTransition"]["case"]["status"], "APPROVED");
    assert_eq!(
        moved["caseTransition"]["case"]["nextStatuses"],
        json!(["SCHEDULED"])
    );
}

#[tokio::test]
async fn expired_tampered_and_foreign_tokens_are_refused() {
    let server = start().await;
    let query = json!({ "query": "{ terms { version } }" }).to_string();
    let good = server.token("anna-svensson");
    let mut tampered = good.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    // Same claims, signed with another secret.
    let foreign = Auth::new(b"another-secret-that-is-also-long-enough!")
        .unwrap()
        .issue("anna-svensson", Role::Tenant, 600)
        .unwrap();
    // Expired an hour ago: issued with a TTL that has passed (beyond the 5 s leeway).
    let expired = expired_token();
    // alg "none" is never accepted.
    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(r#"{"sub":"anna-svensson","role":"tenant","exp":4102444800,"iat":0}"#)
    );
    for (name, token) in [
        ("tampered", tampered),
        ("foreign", foreign),
        ("expired", expired),
        ("alg none", none),
        ("garbage", "x.y.z".into()),
    ] {
        let (status, value) = server.raw(Some(&token), query.clone()).await;
        assert_eq!(status, 401, "{name}");
        assert_eq!(error_codes(&value), ["UNAUTHENTICATED"], "{name}: {value}");
    }
    let (status, _) = server.raw(Some(&good), query).await;
    assert_eq!(status, 200);
}

fn b64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn expired_token() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims =
        json!({ "sub": "anna-svensson", "role": "tenant", "iat": now - 7200, "exp": now - 3600 });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

#[tokio::test]
async fn the_integration_role_moves_cases_idempotently_and_does_nothing_else() {
    let server = start().await;
    let system = server
        .auth
        .issue("teknisk-forvaltning", Role::Integration, 600)
        .unwrap();
    let cecilia = server.token("cecilia-holm");
    let number = server
        .data(
            Some(&cecilia),
            "{ cases { edges { node { number status } } } }",
            json!({}),
        )
        .await["cases"]["edges"][0]["node"]["number"]
        .clone();
    let move_to = "mutation($n: String!, $to: CaseStatus!) { caseTransition(number: $n, to: $to) { case { status history { status actor } } userErrors { code } } }";
    let first = server
        .data(
            Some(&system),
            move_to,
            json!({ "n": number, "to": "APPROVED" }),
        )
        .await;
    let case = &first["caseTransition"]["case"];
    assert_eq!(case["status"], "APPROVED", "{first}");
    let steps = case["history"].as_array().unwrap().len();
    assert_eq!(case["history"][steps - 1]["actor"], "INTEGRATION");
    // The same transition again (a retry): one transition, not two, and no error.
    let again = server
        .data(
            Some(&system),
            move_to,
            json!({ "n": number, "to": "APPROVED" }),
        )
        .await;
    assert_eq!(again["caseTransition"]["userErrors"], json!([]));
    assert_eq!(
        again["caseTransition"]["case"]["history"]
            .as_array()
            .unwrap()
            .len(),
        steps
    );
    // What the lifecycle does not allow is still refused.
    let refused = server
        .data(
            Some(&system),
            move_to,
            json!({ "n": number, "to": "SUBMITTED" }),
        )
        .await;
    assert!(refused["caseTransition"]["case"].is_null(), "{refused}");
    // The tenant sees the move.
    let seen = server
        .data(
            Some(&cecilia),
            "query($n: String!) { case(number: $n) { status } }",
            json!({ "n": number }),
        )
        .await;
    assert_eq!(seen["case"]["status"], "APPROVED");
    // Nothing else: no tenant's cart or catalogue, no cases to read, no rules, no staff reads.
    for query in [
        "{ viewer { tenant { name } } }",
        "{ cart(rentalObjectId: \"gid://tillval/RentalObject/lgh-1002\") { lines { quantity } } }",
        "{ catalogue(rentalObjectId: \"gid://tillval/RentalObject/lgh-1002\") { gate { open } } }",
        "{ caseQueue { nodes { number } } }",
        "{ case(number: \"TV-2026-000001\") { status } }",
        "{ ledgerFees(tenantId: \"gid://tillval/Tenant/david-ek\") { id } }",
        "{ ruleSets { version } }",
        "mutation { ruleSetRollback(version: 1) { ruleSet { version } } }",
        "mutation { ledgerDebtSet(tenantId: \"gid://tillval/Tenant/anna-svensson\", amount: { amount: 0, currency: \"SEK\" }) { debt { amount } } }",
        "{ webhookEndpoints { id } }",
    ] {
        let value = server.gql(Some(&system), query, json!({})).await;
        assert_eq!(error_codes(&value), ["FORBIDDEN"], "{query}: {value}");
    }
    // And a token of the role with no name is no token.
    assert!(
        server
            .auth
            .issue("  ", Role::Integration, 600)
            .is_ok_and(|t| { server.auth.verify(&t).is_err() })
    );
}
