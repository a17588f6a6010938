// Observable Framework: the dashboards as code (pages in src/, data from the marts' snapshot).
export default {
  title: "Campaign pipeline",
  root: "src",
  output: "dist",
  pages: [
    {name: "Campaign performance", path: "/"},
    {name: "One campaign", path: "/campaign"},
    {name: "Lifecycle funnel", path: "/funnel"},
    {name: "Audience health", path: "/audiences"},
    {name: "Return on spend", path: "/return-on-spend"},
    {name: "Data quality", path: "/quality"}
  ],
  // No web fonts: the site is self-contained and opens offline.
  globalStylesheets: [],
  head: '<link rel="icon" href="data:,">',
  search: false,
  // Links name the .html files: the built site is plain files that any static server serves.
  cleanUrls: false,
  footer: "Built from the marts' published snapshot by make dashboard."
};
