//! GraphiQL is served by tillval itself, so it works with no internet (issue 17): the page
//! names only this server's files, each file is there (gzipped to whom accepts it, plain to
//! whom does not), and production serves none of it. The browser test opens it with every
//! request off the server refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

#[tokio::test]
async fn graphiql_and_its_files_come_from_this_server() {
    let server = common::start().await;
    let client = reqwest::Client::new();
    let page = client.get(server.url("/graphiql")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("//unpkg") && !html.contains("https://"),
        "an address off the server: {html}"
    );
    let sources: Vec<&str> = html
        .split(['"', '\''])
        .filter(|part| part.starts_with("/graphiql/"))
        .collect();
    assert_eq!(sources.len(), 5, "the page's files: {sources:?}");
    for source in sources {
        let gzipped = client
            .get(server.url(source))
            .header("accept-encoding", "gzip, br")
            .send()
            .await
            .unwrap();
        assert_eq!(gzipped.status(), 200, "{source}");
        let plain = client
            .get(server.url(source))
            .header("accept-encoding", "identity")
            .send()
            .await
            .unwrap();
        assert_eq!(plain.status(), 200, "{source}");
        assert!(
            plain.headers().get("content-encoding").is_none(),
            "{source}"
        );
        let plain = plain.bytes().await.unwrap();
        if source != "/graphiql/start.js" {
            assert_eq!(gzipped.headers()["content-encoding"], "gzip", "{source}");
            let gzipped = gzipped.bytes().await.unwrap();
            assert!(
                gzipped.len() < plain.len(),
                "{source} is not smaller gzipped"
            );
            assert_eq!(&gzipped[..2], &[0x1f, 0x8b], "{source} is not gzip");
        }
        assert!(plain.len() > 100, "{source} is empty");
    }
}

#[tokio::test]
async fn unknown_graphiql_files_and_production_get_nothing() {
    let server = common::start().await;
    let client = reqwest::Client::new();
    for path in [
        "/graphiql/nope.js",
        "/graphiql/..%2Fschema.graphql",
        "/graphiql/graphiql.min.js.gz",
    ] {
        let response = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let production = common::start_with(true).await;
    for path in ["/graphiql", "/graphiql/graphiql.min.js"] {
        let response = client.get(production.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "production {path}");
    }
}
