// A project's deployment charts: per service and environment, one bar per deployment in time
// order, as tall as it took, coloured and marked by its outcome (✓ succeeded, ✗ failed, and
// ↺ when its stage rolled back); each bar links to its execution.

import { get } from "./api.js";
import { duration, h, when } from "./dom.js";
import { crumbs, projectNav } from "./pages.js";
import { ICONS, s, svgRoot, tone } from "./svg.js";

const enc = encodeURIComponent;
const HEIGHT = 180, LEFT = 56, BOTTOM = 26, TOP = 18, BAR = 22, GAP = 8;

export async function chartsPage(view, project) {
  const data = await get(`/projects/${enc(project)}/deployments`);
  view.replaceChildren(
    crumbs(["#/projects", "Projects"], [`#/projects/${enc(project)}`, project], [null, "Deployment charts"]),
    h("h1", {}, "Deployment charts"),
    projectNav(project, "deployments"),
    ...(data.services.length ? data.services.map(chart)
      : [h("p", { class: "empty" }, "No deployment yet: the charts show each service's Deployment stages once they ran.")]),
  );
}

function chart(series) {
  const list = series.deployments;
  const failed = list.filter((d) => tone(d.status) === "bad").length;
  const ok = list.filter((d) => tone(d.status) === "ok").length;
  const times = list.map((d) => d.duration || 0);
  const top = niceMax(Math.max(...times, 1));
  const width = Math.max(420, LEFT + list.length * (BAR + GAP) + 20);
  const y = (v) => TOP + (HEIGHT - TOP - BOTTOM) * (1 - v / top);
  const root = svgRoot(width, HEIGHT, `Deployments of ${series.service} to ${series.environment}`);
  for (const v of [0, top / 2, top]) {
    root.append(s("g", { class: "pic-axis", "aria-hidden": "true" },
      s("line", { x1: LEFT - 4, y1: y(v), x2: width, y2: y(v) }),
      s("text", { x: 2, y: y(v) + 4 }, duration(v) || "0 s")));
  }
  list.forEach((d, i) => {
    const x = LEFT + i * (BAR + GAP);
    const t = tone(d.status);
    const mark = `${ICONS[t]}${d.rolled_back ? "↺" : ""}`;
    const height = Math.max(2, y(0) - y(d.duration || 0));
    root.append(s("a", {
      href: `#/executions/${enc(d.execution_id)}`, class: `pic-bar tone-${t}`,
      "aria-label": `#${d.sequence_id} ${d.pipeline_id}: ${d.status}${d.rolled_back ? ", rolled back" : ""}, ${duration(d.duration) || "running"}, ${when(d.started_at)}`,
    },
    s("title", {}, `#${d.sequence_id} ${d.pipeline_id} · ${d.stage}: ${d.status} in ${duration(d.duration)} · ${when(d.started_at)}${d.triggered_by ? ` by ${d.triggered_by}` : ""}`),
    s("rect", { x, y: y(0) - height, width: BAR, height, rx: 3 }),
    s("text", { x: x + BAR / 2 - 4, y: y(0) - height - 4, class: "pic-bar-icon", "aria-hidden": "true" }, mark)));
  });
  if (list.length) {
    root.append(s("text", { x: LEFT, y: HEIGHT - 6, class: "pic-caption" }, when(list[0].started_at)));
    if (list.length > 1) root.append(s("text", { x: width - 150, y: HEIGHT - 6, class: "pic-caption" }, when(list[list.length - 1].started_at)));
  }
  const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
  return h("section", { class: "pic pic-chart", "aria-label": `${series.service} in ${series.environment}` },
    h("h2", {}, series.service, h("span", { class: "muted" }, ` · ${series.environment}`)),
    h("p", { class: "hint" }, `${list.length} deployment${list.length === 1 ? "" : "s"}: ${ok} succeeded, ${failed} failed`
      + (list.length ? ` · median ${duration(median)}` : "")),
    h("div", { class: "pic-scroll" }, root));
}

function niceMax(value) {
  const scale = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * scale).find((v) => v >= value) || value;
}
