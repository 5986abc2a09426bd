/**
 * The page's stylesheet, inline (the server's CSP allows inline styles, no scripts). Narrow screens
 * first: one column, wide tables scroll inside their own box, never the page; a print style.
 */
export const PAGE_STYLE = `
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;color:#1f2328;background:#fff;line-height:1.6;font-size:16px}
.page{max-width:1200px;margin:0 auto;padding:0 1rem 2rem}
h1{font-size:1.3rem;line-height:1.35;margin:1rem 0 .5rem}
h2{font-size:1.3rem;margin:2rem 0 .25rem;padding-top:.75rem;border-top:3px solid #1f4e8c}
h3{font-size:1.15rem;margin:1.5rem 0 .5rem}
h4{font-size:1rem;margin:1.25rem 0 .25rem}
p{margin:.4rem 0}
a{color:#1f4e8c}
.intro,.doc,.basis{max-width:48rem}
.basis{background:#f3f6fa;border-left:4px solid #1f4e8c;padding:.5rem .75rem}
.downloads{font-size:.9rem}
nav.toc{font-size:.95rem;margin:.75rem 0}
nav.toc ul{list-style:none;padding:0;margin:0}
nav.toc li{margin:.15rem 0}
nav.toc a{display:inline-block;padding:.1rem .25rem}
.status{display:inline-block;font-size:.8rem;font-weight:normal;padding:0 .4rem;border-radius:3px;vertical-align:middle;margin-left:.25rem}
.status.final{background:#e7f0e9;color:#0a5224}
.status.running{background:#fff4e0;color:#7a4a00}
.running-note{color:#7a4a00}
.warn{color:#7a4a00}
.note{color:#555;font-size:.85rem}
table{border-collapse:collapse;width:100%;font-size:.95rem}
caption{text-align:left;font-weight:bold;padding:.25rem 0;caption-side:top}
th,td{border-bottom:1px solid #d6dbe1;padding:.35rem .4rem;vertical-align:top}
thead th{background:#eef2f7;font-weight:bold;border-bottom:2px solid #b8c2cf}
th[scope=row]{text-align:left;font-weight:normal}
td{text-align:right;font-variant-numeric:tabular-nums}
tr.total th,tr.total td{font-weight:bold}
th.sub{padding-left:1.5rem}
.wan{display:block;color:#555;font-size:.8rem;font-weight:normal}
.pct{font-weight:bold}
.pct+[data-figure],.src,.unit,.why{color:#555;font-size:.8rem}
.why{margin-left:.25rem}
.headline{display:grid;grid-template-columns:minmax(0,1fr);gap:1rem}
.card{min-width:0}
.ratios td:last-child{text-align:left}
.ratios .flag{margin-top:.2rem}
.ratios th[scope=row]{white-space:nowrap}
.ratios td [data-figure],.ratios td .src{display:block}
.flag{display:inline-block;font-size:.85rem;padding:0 .35rem;border-radius:3px;line-height:1.5}
.flag.ok{color:#0a5224;background:#e7f0e9}
.flag.over{color:#fff;background:#b3261e}
.flag.loss{color:#7a4a00;background:#fff4e0;border:1px solid #d9a441}
.flag.pending,.flag.none{color:#555;background:#f0f0f0}
.table-wrap{overflow-x:auto;max-width:100%;border:1px solid #d6dbe1;-webkit-overflow-scrolling:touch}
.table-wrap:focus{outline:2px solid #1f4e8c}
table.periods{width:auto;min-width:100%;white-space:nowrap;font-size:.9rem}
table.periods caption{padding:.25rem .5rem}
table.periods thead th{white-space:normal;min-width:5em;vertical-align:bottom}
table.periods th[scope=row]{position:sticky;left:0;background:#fff;border-right:1px solid #d6dbe1}
table.periods tr.quarter th,table.periods tr.quarter td{background:#f3f6fa;font-weight:bold}
.asof{display:block;font-weight:normal;color:#7a4a00;font-size:.8em}
td.meta{text-align:left;white-space:normal;min-width:9rem;font-size:.8rem;color:#555}
details.changes summary{cursor:pointer;color:#1f4e8c}
details.changes ul{margin:.25rem 0;padding-left:1.25rem}
.publication p{margin:.25rem 0}
.charts{display:grid;grid-template-columns:minmax(0,1fr);gap:1rem;margin:1rem 0}
figure.chart{margin:0;min-width:0}
.chart-wide{display:none}
figure.chart figcaption{font-size:.85rem;color:#555}
figure.chart figcaption strong{display:block;color:#1f2328;font-size:.95rem}
figure.chart svg{display:block;width:100%;height:auto}
pre,code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.85rem}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f4f4f4;padding:.5rem}
code{overflow-wrap:anywhere}
#definitions li{margin:.25rem 0}
@media (min-width:600px){
  .chart-narrow{display:none}
  .chart-wide{display:block}
}
@media (min-width:860px),print{
  h1{font-size:1.8rem}
  .headline{grid-template-columns:minmax(0,1.2fr) minmax(0,1fr);grid-template-areas:"accounts people" "accounts ratios" "manual reconciliation"}
  .accounts-card{grid-area:accounts}.people-card{grid-area:people}.ratios-card{grid-area:ratios}
  .manual-card{grid-area:manual}.reconciliation-card{grid-area:reconciliation}
  .charts{grid-template-columns:repeat(2,minmax(0,1fr))}
  nav.toc li{display:inline-block;margin-right:1.25rem}
}
@media print{
  body{font-size:10pt;color:#000}
  .page{max-width:none;padding:0}
  nav.toc,.downloads{display:none}
  h2{break-before:page;border-top:none}
  h2:first-of-type{break-before:auto}
  .card,figure.chart,tr{break-inside:avoid}
  .table-wrap{overflow:visible;border:none}
  table.periods{white-space:normal;font-size:7.5pt}
  table.periods th[scope=row]{position:static}
  .charts{grid-template-columns:repeat(2,minmax(0,1fr))}
  .flag,.status,thead th,tr.quarter td,tr.quarter th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  a{color:#000;text-decoration:none}
  #verification pre{font-size:7pt}
  .chart-narrow{display:none}
  .chart-wide{display:block}
}
`;
