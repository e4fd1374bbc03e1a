// Starts GraphiQL (with the explorer plugin) on #graphiql, sending queries to its data-url (this server's /graphql)
// and opening with its data-query. A file, not inline: the page's CSP allows no inline script.
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
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      inputValueDeprecation: true,
    }),
  );
})();
