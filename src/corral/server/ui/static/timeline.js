// The deployment timeline: one row per step that ran (a bar from its start to its end), the ECS
// service events and service deployment states its steps logged as marks on its row, on one
// time axis; below, the same as text (time since the start, ECS's own time, message). Marks and
// bars take focus.

import { h } from "./dom.js";
import { ICONS, fit, s, svgRoot, tone } from "./svg.js";

const WIDTH = 1040, LEFT = 240, RIGHT = 16, ROW = 28, AXIS = 26;
const PROBLEM = /unhealthy|unable|failed|error|throttled|rolling back|rollback_|stopped,|circuit breaker/i;

export function renderTimeline(container, data) {
  if (!data.steps.length && !data.events.length) {
    container.replaceChildren(h("p", { class: "muted" }, "Nothing has run yet."));
    return;
  }
  const start = data.start, span = Math.max(0.001, data.end - data.start);
  const x = (t) => LEFT + ((t - start) / span) * (WIDTH - LEFT - RIGHT);
  const rows = new Map(data.steps.map((step, i) => [step.key, i]));
  const height = AXIS + ROW * Math.max(1, data.steps.length) + 4;
  const root = svgRoot(WIDTH, height, "Deployment timeline");
  root.append(axis(span, x, start, height));
  data.steps.forEach((step, i) => {
    const y = AXIS + i * ROW;
    const end = step.ended_at || data.end;
    const t = tone(step.status);
    const label = `${step.phase === "rollback" ? "↺ " : ""}${step.name}`;
    root.append(
      s("text", { x: 4, y: y + 18, class: "pic-row-label" }, fit(label, 30)),
      s("g", {
        class: `pic-bar tone-${t}`, tabindex: 0, dataset: { key: step.key, status: step.status },
        "aria-label": `${step.name}: ${step.status}, from +${(step.started_at - start).toFixed(1)} s to +${(end - start).toFixed(1)} s`,
      },
      s("title", {}, `${step.name} (${step.type}): ${step.status}`),
      s("rect", { x: x(step.started_at), y: y + 5, width: Math.max(3, x(end) - x(step.started_at)), height: ROW - 10, rx: 3 }),
      s("text", { x: x(step.started_at) + 4, y: y + 18, class: "pic-bar-icon", "aria-hidden": "true" }, ICONS[t])),
    );
  });
  data.events.forEach((event, i) => {
    const row = rows.has(event.step_key) ? rows.get(event.step_key) : 0;
    const cx = x(event.at), cy = AXIS + row * ROW + ROW / 2;
    const bad = PROBLEM.test(event.message);
    const what = event.kind === "service-deployment" ? "ECS service deployment" : `ECS event at ${event.ecs_time}`;
    // a problem is a triangle, a service deployment's state a square, other events diamonds:
    // told apart by shape as well as colour
    const shape = bad ? `M${cx},${cy - 8} L${cx + 8},${cy + 6} L${cx - 8},${cy + 6} z`
      : event.kind === "service-deployment" ? `M${cx - 6},${cy - 6} h12 v12 h-12 z`
        : `M${cx},${cy - 7} L${cx + 7},${cy} L${cx},${cy + 7} L${cx - 7},${cy} z`;
    root.append(s("g", {
      class: `pic-event${bad ? " problem" : ""}`, tabindex: 0, dataset: { key: `event-${i}`, kind: event.kind },
      "aria-label": `${bad ? "problem: " : ""}${what}: ${event.message}`,
    },
    s("title", {}, `${what}: ${event.message}`),
    s("path", { d: shape })));
  });
  const list = h("ol", { class: "pic-events", "aria-label": "ECS events" },
    data.events.map((event) => h("li", { class: PROBLEM.test(event.message) ? "problem" : "", dataset: { kind: event.kind } },
      PROBLEM.test(event.message) ? h("span", { "aria-label": "problem" }, "⚠ ") : null,
      h("span", { class: "muted" }, `+${(event.at - start).toFixed(1)} s`), " ",
      event.ecs_time ? h("code", {}, event.ecs_time) : null, " ",
      event.message)));
  container.replaceChildren(root, data.events.length ? list : h("p", { class: "muted" }, "No ECS event logged yet."));
}

function axis(span, x, start, height) {
  const step = niceStep(span / 8);
  const g = s("g", { class: "pic-axis", "aria-hidden": "true" });
  for (let t = 0; t <= span + 1e-9; t += step) {
    const at = x(start + t);
    g.append(s("line", { x1: at, y1: AXIS - 6, x2: at, y2: height }), s("text", { x: at + 2, y: AXIS - 10 }, `+${label(t)}`));
  }
  return g;
}

function niceStep(raw) {
  const scale = 10 ** Math.floor(Math.log10(Math.max(raw, 0.001)));
  return [1, 2, 5, 10].map((m) => m * scale).find((v) => v >= raw) || raw;
}

function label(seconds) {
  if (seconds >= 60) return `${Math.floor(seconds / 60)}m${Math.round(seconds % 60)}s`;
  return seconds >= 10 || Number.isInteger(seconds) ? `${Math.round(seconds)}s` : `${seconds.toFixed(1)}s`;
}
