// Starts GraphiQL (with the explorer plugin) on #graphiql, sending queries to its data-url (this server's /graphql).
// It opens with the link's query and variables (data-prefill, data-variables: /graphql?query=...) when there are
// any, else with what the editor held last time, or data-query. A file, not inline: the CSP allows no inline script.
"use strict";
(function () {
  const root = document.getElementById("graphiql");
  const fetcher = GraphiQL.createFetcher({ url: new URL(root.dataset.url, window.location.href).href });
  const explorer = GraphiQLPluginExplorer.explorerPlugin();
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      defaultQuery: root.dataset.query,
      query: root.dataset.prefill || undefined,
      variables: root.dataset.variables || undefined,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      inputValueDeprecation: true,
    }),
  );
})();
