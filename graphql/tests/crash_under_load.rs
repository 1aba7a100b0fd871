//! Crash under load (issue 17): `tillval serve` is killed (SIGKILL) while tenants fill carts,
//! send orders and cancel them, and staff set debts, record payments and move cases; after a
//! restart on the same database every acknowledged answer is there, and nothing half-written
//! or invented is: on SQLite and on PostgreSQL, two kills each.
//!
//! Each writer owns what it writes (a tenant's cart and cases, one tenant's debt, one fee's
//! payments), one request at a time, so what the store must hold is exact: everything it was
//! told was done, plus at most the one request in flight when the server died.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tillval_graphql::auth::{Auth, Role};
use tillval_tests::test_database::{TestDatabase, server_url};

const BINARY: &str = env!("CARGO_BIN_EXE_tillval");
const SECRET: &str = "a-secret-for-the-crash-under-load-test";
const ROUNDS: usize = 2;
/// Each round's load runs this long at most before the kill (the kill comes at a random
/// moment within it).
const LOAD: Duration = Duration::from_millis(2_500);

struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// The first start loads the demo landlord; a restart must not (the demo's facts would
    /// overwrite what the load wrote).
    fn start(database: &str, demo: bool) -> Server {
        let mut child = Command::new(BINARY)
            .args(["serve", "--bind", "127.0.0.1:0", "--database", database])
            .args(demo.then_some("--demo"))
            .env("TILLVAL_JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .env_remove("TILLVAL_ENV")
            .env_remove("TILLVAL_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines
            .next()
            .expect("the server prints its address")
            .unwrap();
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_owned();
        std::thread::spawn(move || for _ in lines {});
        Server { child, url }
    }

    fn kill(mut self) {
        // SIGKILL: no shutdown, no flush; what was acknowledged must already be durable.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request's answer: `Some(data)` when acknowledged (HTTP 200, no error, no user error),
/// `None` when it failed in any way (the server died, a refusal).
async fn call(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Option<Value> {
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let body: Value = response.json().await.ok()?;
    if !body["errors"].is_null() {
        return None;
    }
    let data = body["data"].clone();
    let refused = data.as_object()?.values().any(|payload| {
        payload["userErrors"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    });
    (!refused).then_some(data)
}

/// What one tenant's writer was told was done, and what it had in flight.
#[derive(Debug, Default, Clone)]
struct TenantLedger {
    /// (case number, its lines as the answer gave them, the message), per acknowledged submit.
    submitted: Vec<(String, Value, String)>,
    /// Acknowledged cancels.
    cancelled: Vec<String>,
    /// A submit was sent whose answer never came.
    submit_in_flight: bool,
    /// The case sent last, while no cancel of it was acknowledged: the writer cancels it
    /// before it orders again (its lock holds the category and space until then).
    to_cancel: Option<String>,
}

/// What the staff writer was told was done.
#[derive(Debug, Default, Clone)]
struct StaffLedger {
    /// Debts set on one tenant, in order; the last acknowledged, and one in flight.
    debt_acknowledged: Option<i64>,
    debt_in_flight: Option<i64>,
    /// Payments of 1 öre on one fee.
    payments_acknowledged: u64,
    payment_in_flight: bool,
}

const CART_ADD: &str = "mutation($o: ID!, $a: ID!, $q: Int!) { cartLinesAdd(rentalObjectId: $o, lines: [{ optionId: $a, quantity: $q }]) { cart { articleCount } userErrors { code } } }";
const DETAILS: &str = "mutation($o: ID!, $m: String!) { checkoutDetailsUpdate(rentalObjectId: $o, details: { message: $m }) { cart { articleCount } userErrors { code } } }";
const SUBMIT: &str = "mutation($o: ID!, $v: Int!, $k: String!) { checkoutSubmit(rentalObjectId: $o, input: { acceptTerms: true, termsVersion: $v, idempotencyKey: $k }) { case { number lines { optionId quantity } } userErrors { code } } }";
const CANCEL: &str =
    "mutation($n: String!) { caseCancel(number: $n) { case { status } userErrors { code } } }";
const DEBT: &str = "mutation($t: ID!, $a: Int!) { ledgerDebtSet(tenantId: $t, amount: { amount: $a, currency: \"SEK\" }) { debt { amount } userErrors { code } } }";
const PAY: &str = "mutation($f: ID!) { ledgerPaymentRecord(feeId: $f, amount: { amount: 1, currency: \"SEK\" }) { fee { paid { amount } } userErrors { code } } }";

#[allow(clippy::too_many_arguments)]
/// One tenant's loop: add a line, write a message, send, cancel; again, until `until`.
async fn tenant_writer(
    url: String,
    token: String,
    object: String,
    option: String,
    quantity: u64,
    round: usize,
    until: Instant,
    ledger: Arc<Mutex<TenantLedger>>,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let terms = call(&client, &url, &token, "{ terms { version } }", json!({})).await;
    let Some(terms) = terms else { return };
    let version = terms["terms"]["version"].as_i64().unwrap();
    let mut step = 0_u64;
    while Instant::now() < until {
        let pending = ledger.lock().unwrap().to_cancel.clone();
        if let Some(number) = pending {
            if call(&client, &url, &token, CANCEL, json!({ "n": number }))
                .await
                .is_some()
            {
                let mut ledger = ledger.lock().unwrap();
                ledger.to_cancel = None;
                ledger.cancelled.push(number);
            }
            continue;
        }
        step += 1;
        let message = format!("round {round} step {step}");
        if call(
            &client,
            &url,
            &token,
            CART_ADD,
            json!({ "o": object, "a": option, "q": quantity }),
        )
        .await
        .is_none()
        {
            // Refused (the server is gone, or the line is already there from a submit that
            // died in flight): go on to the next step, which says which.
        }
        if call(
            &client,
            &url,
            &token,
            DETAILS,
            json!({ "o": object, "m": message }),
        )
        .await
        .is_none()
        {
            continue;
        }
        ledger.lock().unwrap().submit_in_flight = true;
        let key = format!("crash-{round}-{step}-{}", object.len());
        let sent = call(
            &client,
            &url,
            &token,
            SUBMIT,
            json!({ "o": object, "v": version, "k": key }),
        )
        .await;
        let Some(sent) = sent else {
            // In flight or refused: the answer never said it was done.
            if Instant::now() >= until {
                return;
            }
            continue;
        };
        let case = &sent["checkoutSubmit"]["case"];
        let number = case["number"].as_str().unwrap().to_owned();
        {
            let mut ledger = ledger.lock().unwrap();
            ledger.submit_in_flight = false;
            ledger
                .submitted
                .push((number.clone(), case["lines"].clone(), message));
            ledger.to_cancel = Some(number);
        }
    }
}

/// Staff's loop: a debt set to a new amount, a payment of 1 öre, until `until`.
async fn staff_writer(
    url: String,
    token: String,
    tenant: String,
    fee: String,
    round: usize,
    until: Instant,
    ledger: Arc<Mutex<StaffLedger>>,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    // Each round's amounts differ from every other's, so the stored one says which it was.
    let mut amount = 100_000 * (i64::try_from(round).unwrap() + 1);
    while Instant::now() < until {
        amount += 1;
        // Neither ever refuses here, so a failure is the server dying: the request may or may
        // not have been done, and the writer stops there.
        ledger.lock().unwrap().debt_in_flight = Some(amount);
        let debt = json!({ "t": tenant, "a": amount });
        if call(&client, &url, &token, DEBT, debt).await.is_none() {
            return;
        }
        {
            let mut ledger = ledger.lock().unwrap();
            ledger.debt_acknowledged = Some(amount);
            ledger.debt_in_flight = None;
            ledger.payment_in_flight = true;
        }
        if call(&client, &url, &token, PAY, json!({ "f": fee }))
            .await
            .is_none()
        {
            return;
        }
        let mut ledger = ledger.lock().unwrap();
        ledger.payments_acknowledged += 1;
        ledger.payment_in_flight = false;
    }
}

/// What a tenant's writer needs: its apartment and an option it may order (with a quantity).
async fn first_orderable(
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> (String, String, u64) {
    let viewer = call(
        client,
        url,
        token,
        "{ viewer { rentalObjects { id } } }",
        json!({}),
    )
    .await
    .unwrap();
    let object = viewer["viewer"]["rentalObjects"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let catalogue = call(
        client,
        url,
        token,
        "query($o: ID!) { catalogue(rentalObjectId: $o) { categories { options { id unit availability { status } } } } }",
        json!({ "o": object }),
    )
    .await
    .unwrap();
    let option = catalogue["catalogue"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["options"].as_array().unwrap())
        .find(|o| o["availability"]["status"] == "AVAILABLE")
        .unwrap_or_else(|| panic!("nothing orderable: {catalogue}"));
    let quantity = if option["unit"] == "PIECE" { 2 } else { 1 };
    (object, option["id"].as_str().unwrap().to_owned(), quantity)
}

async fn crash_under_load(database: &str) {
    let auth = Auth::new(SECRET.as_bytes()).unwrap();
    let tenants = ["anna-svensson", "eva-nilsson"];
    let tokens: Vec<String> = tenants
        .iter()
        .map(|t| auth.issue(t, Role::Tenant, 3_600).unwrap())
        .collect();
    let staff = auth.issue("staff-crash", Role::Staff, 3_600).unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let mut server = Server::start(database, true);
    let mut targets = Vec::new();
    for token in &tokens {
        targets.push(first_orderable(&client, &server.url, token).await);
    }
    // Staff: Bertil's debt, and David's fee that is not fully paid.
    let households = call(
        &client,
        &server.url,
        &staff,
        "{ households(first: 100) { nodes { tenantId tenantName } } }",
        json!({}),
    )
    .await
    .unwrap();
    let tenant_id = |name: &str| {
        households["households"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["tenantName"] == name)
            .unwrap()["tenantId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let bertil = tenant_id("Bertil Lind");
    let david = tenant_id("David Ek");
    let fees = call(
        &client,
        &server.url,
        &staff,
        "query($t: ID!) { ledgerFees(tenantId: $t) { id remaining { amount } paid { amount } } }",
        json!({ "t": david }),
    )
    .await
    .unwrap();
    let fee = fees["ledgerFees"][0]["id"].as_str().unwrap().to_owned();
    let paid_before = fees["ledgerFees"][0]["paid"]["amount"].as_u64().unwrap();

    let ledgers: Vec<Arc<Mutex<TenantLedger>>> = tenants.iter().map(|_| Arc::default()).collect();
    let staff_ledger: Arc<Mutex<StaffLedger>> = Arc::default();
    let started = Instant::now();
    for round in 0..ROUNDS {
        // The kill comes at a moment of the round's load that differs run to run.
        let kill_after =
            Duration::from_millis(600 + u64::from(started.elapsed().subsec_nanos() % 1_500));
        let until = Instant::now() + LOAD;
        let mut writers = Vec::new();
        for ((token, (object, option, quantity)), ledger) in
            tokens.iter().zip(&targets).zip(&ledgers)
        {
            writers.push(tokio::spawn(tenant_writer(
                server.url.clone(),
                token.clone(),
                object.clone(),
                option.clone(),
                *quantity,
                round,
                until,
                ledger.clone(),
            )));
        }
        writers.push(tokio::spawn(staff_writer(
            server.url.clone(),
            staff.clone(),
            bertil.clone(),
            fee.clone(),
            round,
            until,
            staff_ledger.clone(),
        )));
        tokio::time::sleep(kill_after).await;
        server.kill();
        for writer in writers {
            writer.await.unwrap();
        }
        server = Server::start(database, false);
        verify(
            &client,
            &server.url,
            &tokens,
            &ledgers,
            &staff,
            &bertil,
            &fee,
            paid_before,
            &staff_ledger,
        )
        .await;
    }
    let (submitted, cancelled): (usize, usize) = ledgers.iter().fold((0, 0), |(s, c), l| {
        let l = l.lock().unwrap();
        (s + l.submitted.len(), c + l.cancelled.len())
    });
    let staff_ledger = staff_ledger.lock().unwrap();
    println!(
        "{database}: {ROUNDS} kills; acknowledged and found stored: {submitted} orders sent, {cancelled} cancelled, {} payments, the last debt {:?}",
        staff_ledger.payments_acknowledged, staff_ledger.debt_acknowledged
    );
    assert!(
        submitted >= ROUNDS,
        "too little load to mean anything: {submitted} orders"
    );
}

/// Every acknowledged answer is stored; nothing else is, but the one request in flight.
#[allow(clippy::too_many_arguments)]
async fn verify(
    client: &reqwest::Client,
    url: &str,
    tokens: &[String],
    ledgers: &[Arc<Mutex<TenantLedger>>],
    staff: &str,
    bertil: &str,
    fee: &str,
    paid_before: u64,
    staff_ledger: &Arc<Mutex<StaffLedger>>,
) {
    for (token, ledger) in tokens.iter().zip(ledgers) {
        let cases = call(
            client,
            url,
            token,
            "{ cases(first: 100) { nodes { number status lines { optionId quantity } checkoutDetails { message } history { status } } } }",
            json!({}),
        )
        .await
        .expect("the cases after a restart");
        let stored: Vec<&Value> = cases["cases"]["nodes"].as_array().unwrap().iter().collect();
        let mut ledger = ledger.lock().unwrap();
        for (number, lines, message) in &ledger.submitted {
            let case = stored
                .iter()
                .find(|c| c["number"] == number.as_str())
                .unwrap_or_else(|| panic!("acknowledged case {number} lost: {cases}"));
            assert_eq!(&case["lines"], lines, "{number}: the lines sent");
            assert!(!lines.as_array().unwrap().is_empty(), "{case}");
            assert_eq!(
                case["checkoutDetails"]["message"],
                message.as_str(),
                "{case}"
            );
            assert_eq!(case["history"][0]["status"], "SUBMITTED", "{case}");
            let cancelled = ledger.cancelled.contains(number);
            let cancel_unanswered = ledger.to_cancel.as_ref() == Some(number);
            match case["status"].as_str().unwrap() {
                "CANCELLED" => {
                    assert!(cancelled || cancel_unanswered, "{number} cancelled unasked")
                }
                "SUBMITTED" => assert!(!cancelled, "acknowledged cancel of {number} lost"),
                other => panic!("{number} is {other}"),
            }
        }
        // A case of this load nobody was told of: at most the one submit in flight.
        let unanswered: Vec<&&Value> = stored
            .iter()
            .filter(|c| {
                c["checkoutDetails"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("round ")
            })
            .filter(|c| {
                !ledger
                    .submitted
                    .iter()
                    .any(|(n, ..)| c["number"] == n.as_str())
            })
            .collect();
        assert!(
            unanswered.len() <= usize::from(ledger.submit_in_flight),
            "cases nobody was told of, beyond the one in flight: {unanswered:?}"
        );
        // What was in flight is settled by what is stored: the next round starts from it.
        if let Some(case) = unanswered.first() {
            let number = case["number"].as_str().unwrap().to_owned();
            assert!(
                !case["lines"].as_array().unwrap().is_empty(),
                "half-written: {case}"
            );
            ledger.submitted.push((
                number.clone(),
                case["lines"].clone(),
                case["checkoutDetails"]["message"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ));
            if case["status"] == "SUBMITTED" {
                ledger.to_cancel = Some(number);
            }
        }
        ledger.submit_in_flight = false;
        if let Some(number) = ledger.to_cancel.clone() {
            let stored_cancelled = stored
                .iter()
                .any(|c| c["number"] == number.as_str() && c["status"] == "CANCELLED");
            if stored_cancelled {
                ledger.to_cancel = None;
                ledger.cancelled.push(number);
            }
        }
    }
    let account = call(
        client,
        url,
        staff,
        "query($t: ID!) { ledgerAccount(tenantId: $t) { debt { amount } } }",
        json!({ "t": bertil }),
    )
    .await
    .unwrap();
    let fees = call(
        client,
        url,
        staff,
        "query($t: ID!) { ledgerFees(tenantId: $t) { id paid { amount } amount { amount } } }",
        json!({ "t": fee_tenant(client, url, staff).await }),
    )
    .await
    .unwrap();
    let mut staff_ledger = staff_ledger.lock().unwrap();
    let debt = account["ledgerAccount"]["debt"]["amount"].as_i64();
    if let Some(acknowledged) = staff_ledger.debt_acknowledged {
        assert!(
            debt == Some(acknowledged) || (debt.is_some() && debt == staff_ledger.debt_in_flight),
            "debt {debt:?}: acknowledged {acknowledged}, in flight {:?}",
            staff_ledger.debt_in_flight
        );
    }
    staff_ledger.debt_acknowledged = debt;
    staff_ledger.debt_in_flight = None;
    let stored_fee = fees["ledgerFees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == fee)
        .unwrap();
    let paid = stored_fee["paid"]["amount"].as_u64().unwrap() - paid_before;
    let acknowledged = staff_ledger.payments_acknowledged;
    assert!(
        paid == acknowledged || (staff_ledger.payment_in_flight && paid == acknowledged + 1),
        "paid {paid} öre: {acknowledged} acknowledged, in flight {}",
        staff_ledger.payment_in_flight
    );
    assert!(
        stored_fee["paid"]["amount"].as_u64() <= stored_fee["amount"]["amount"].as_u64(),
        "{stored_fee}"
    );
    staff_ledger.payments_acknowledged = paid;
    staff_ledger.payment_in_flight = false;
}

/// David's tenant id (the fee's tenant).
async fn fee_tenant(client: &reqwest::Client, url: &str, staff: &str) -> String {
    let households = call(
        client,
        url,
        staff,
        "{ households(first: 100) { nodes { tenantId tenantName } } }",
        json!({}),
    )
    .await
    .unwrap();
    households["households"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["tenantName"] == "David Ek")
        .unwrap()["tenantId"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_keeps_every_acknowledged_write_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("crash.db").display());
    crash_under_load(&database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_keeps_every_acknowledged_write_on_postgres() {
    let Some(server) = server_url("a_killed_server_keeps_every_acknowledged_write_on_postgres")
    else {
        return;
    };
    let database = TestDatabase::create(&server).await.unwrap();
    crash_under_load(&database.url).await;
    database.drop_database().await.unwrap();
}
