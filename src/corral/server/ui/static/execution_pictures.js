// The pictures on an execution's page: its pipeline graph, its deployment timeline and, for
// stages whose services sit behind a load balancer, where traffic goes. Each is redrawn when
// what it shows changes, and the AWS-backed ones are read again while the execution runs.

import { get } from "./api.js";
import { h } from "./dom.js";
import { renderGraph } from "./graph.js";
import { renderTimeline } from "./timeline.js";
import { renderTraffic } from "./traffic.js";
import { redraw } from "./svg.js";

const enc = encodeURIComponent;
const TIMELINE_EVERY_MS = 1500;
// each read is a dozen AWS read calls through the project's connector, which the steps share
const TRAFFIC_EVERY_MS = 3000;

export function executionPictures(id) {
  const graphBox = h("div", { class: "pic-scroll" });
  const timelineBox = h("div", { class: "pic-scroll" });
  const trafficBox = h("div");
  const node = h("div", { class: "pictures" },
    h("figure", { class: "pic pic-graph", "aria-labelledby": "pic-graph-title" },
      h("figcaption", { id: "pic-graph-title" }, "Pipeline graph"), graphBox),
    h("figure", { class: "pic pic-timeline", "aria-labelledby": "pic-timeline-title" },
      h("figcaption", { id: "pic-timeline-title" }, "Timeline"), timelineBox),
    trafficBox);
  const state = { graph: null, graphKey: null, timelineAt: 0, timelineKey: null, trafficAt: 0, trafficKey: null, ended: false, busy: new Set() };

  // Called on each refresh of the execution (the page polls it).
  function update(ex) {
    const ended = Boolean(ex.ended_at);
    const endedNow = ended && !state.ended;
    state.ended = ended;
    graph(ex);
    const now = Date.now();
    if (endedNow || (!ended && now - state.timelineAt > TIMELINE_EVERY_MS) || !state.timelineAt) {
      state.timelineAt = now;
      once("timeline", () => get(`/executions/${enc(id)}/timeline`).then((data) => {
        const key = JSON.stringify(data);
        if (key !== state.timelineKey) { state.timelineKey = key; redraw(timelineBox, () => renderTimeline(timelineBox, data)); }
      }));
    }
    if (endedNow || (!ended && !document.hidden && now - state.trafficAt > TRAFFIC_EVERY_MS) || !state.trafficAt) {
      state.trafficAt = now;
      once("traffic", () => get(`/executions/${enc(id)}/traffic`).then((data) => {
        const key = JSON.stringify(data);
        if (key !== state.trafficKey) { state.trafficKey = key; redraw(trafficBox, () => renderTraffic(trafficBox, data)); }
      }));
    }
  }

  function graph(ex) {
    if (!state.graph) {
      once("graph", () => get(`/executions/${enc(id)}/graph`).then((data) => { state.graph = data; graph(ex); }));
      return;
    }
    const key = JSON.stringify([ex.steps.map((st) => [st.key, st.status, st.ended_at]), ex.stages.map((st) => [st.key, st.status, st.rolled_back])]);
    if (key === state.graphKey) return;
    state.graphKey = key;
    redraw(graphBox, () => renderGraph(graphBox, state.graph, ex));
  }

  // One request of a kind at a time; a failure is shown where the picture would be.
  function once(kind, load) {
    if (state.busy.has(kind)) return;
    state.busy.add(kind);
    load().catch((e) => {
      const box = kind === "graph" ? graphBox : kind === "timeline" ? timelineBox : trafficBox;
      box.replaceChildren(h("p", { class: "error" }, `The ${kind} could not be drawn: ${e.message}`));
    }).finally(() => state.busy.delete(kind));
  }

  return { node, update };
}
