// Served by tillval itself (graphql/src/graphiql.rs), so GraphiQL works with no internet.
// A token goes in the headers pane: {"Authorization": "Bearer <token>"} (`tillval token`).
(function () {
  function address(path, websocket) {
    var url = new URL(path, window.location.origin);
    if (websocket) {
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    }
    return url.toString();
  }
  var fetcher = GraphiQL.createFetcher({
    url: address("/graphql", false),
    subscriptionUrl: address("/graphql/ws", true),
  });
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
    })
  );
})();
