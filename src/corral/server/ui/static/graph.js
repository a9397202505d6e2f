// The pipeline graph of an execution: each stage a lane of its steps left to right, step groups
// framed (their rollback steps in a row inside the frame), parallel branches and looping
// iterations stacked between a fork and a join, the stage's rollback steps in a row below; every
// node shows its live state as colour, icon and text, and a dashed path leads from the failed
// step to the first rollback step that ran. Nodes are buttons: Enter jumps to the step's row.

import { duration } from "./dom.js";
import { ICONS, fit, s, svgRoot, tone } from "./svg.js";

const W = 184, H = 48, GAP = 30, PAD = 12, LABEL = 22, BRANCH_GAP = 12, FORK = 16;
let uid = 0;

export function renderGraph(container, graph, ex) {
  const byKey = new Map(ex.steps.map((step) => [step.key, step]));
  const stages = new Map(ex.stages.map((stage) => [stage.key, stage]));
  const lanes = graph.stages.flatMap((column, at) => column.map((stage) => ({ ...lane(stage, column, byKey, stages), column: at })));
  const width = Math.max(320, ...lanes.map((l) => l.w)) + 2;
  const height = lanes.reduce((sum, l) => sum + l.h + GAP / 2, 0) + 2;
  const id = `pic-arrow-${++uid}`;
  const root = svgRoot(width, height, `Pipeline graph of ${graph.name}`);
  root.append(s("defs", {}, s("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
    s("path", { d: "M0,0 L10,5 L0,10 z", class: "pic-arrowhead" }))));
  const ctx = { byKey, id, positions: new Map(), layer: s("g", { class: "pic-paths" }) };
  let y = 1;
  lanes.forEach((l, i) => {
    // the next stage runs after this one: an arrow down to it (stages in parallel share a column)
    if (i && l.column !== lanes[i - 1].column) {
      root.append(s("line", { x1: 40, y1: y - GAP / 2, x2: 40, y2: y - 1, class: "pic-edge", "marker-end": `url(#${id})` }));
    }
    l.draw(root, 1, y, ctx);
    y += l.h + GAP / 2;
  });
  for (const l of lanes) rollbackPath(l.stage, ex, ctx);
  root.append(ctx.layer);
  container.replaceChildren(root);
}

function lane(stage, column, byKey, stages) {
  const record = stages.get(stage.key) || {};
  const main = sequence(stage.steps, byKey);
  const back = stage.rollback.length ? sequence(stage.rollback, byKey) : null;
  const w = Math.max(main.w, back ? back.w : 0, 260) + 2 * PAD;
  const h = LABEL + PAD + main.h + (back ? LABEL + PAD + back.h : 0) + PAD;
  const t = tone(record.status);
  const others = column.filter((c) => c !== stage).map((c) => c.name);
  const title = `${ICONS[t]} ${stage.name} · ${record.status || "Not started"}`
    + (record.rolled_back ? " · rolled back" : "") + (others.length ? ` · in parallel with ${others.join(", ")}` : "");
  return {
    w, h, stage,
    draw(root, x, y, ctx) {
      root.append(s("g", { class: `pic-stage tone-${t}`, dataset: { stage: stage.key } },
        s("rect", { x, y, width: w, height: h, rx: 8 }),
        s("text", { x: x + PAD, y: y + 16, class: "pic-stage-title" }, title)));
      main.draw(root, x + PAD, y + LABEL + PAD / 2, ctx);
      if (back) {
        const top = y + LABEL + PAD + main.h + PAD / 2;
        root.append(s("text", { x: x + PAD, y: top + 14, class: "pic-rollback-label" }, "↺ Stage rollback"));
        back.draw(root, x + PAD, top + LABEL, ctx);
      }
    },
  };
}

// A box: w, h, mid (where lines enter and leave, from its top) and draw(root, x, y, ctx).
function box(node, byKey) {
  if (node.kind === "group") return group(node, byKey);
  if (node.kind === "parallel") return parallel(node, byKey);
  return step(node, byKey);
}

function sequence(nodes, byKey) {
  if (!nodes.length) {
    return { w: 90, h: H, mid: H / 2, draw: (root, x, y) => root.append(s("text", { x, y: y + H / 2 + 4, class: "pic-empty" }, "no steps")) };
  }
  const boxes = nodes.map((n) => box(n, byKey));
  const mid = Math.max(...boxes.map((b) => b.mid));
  const h = Math.max(...boxes.map((b) => mid - b.mid + b.h));
  const w = boxes.reduce((sum, b) => sum + b.w, 0) + GAP * (boxes.length - 1);
  return {
    w, h, mid,
    draw(root, x, y, ctx) {
      let at = x;
      boxes.forEach((b, i) => {
        if (i) root.append(s("line", { x1: at - GAP, y1: y + mid, x2: at - 2, y2: y + mid, class: "pic-edge", "marker-end": `url(#${ctx.id})` }));
        b.draw(root, at, y + mid - b.mid, ctx);
        at += b.w + GAP;
      });
    },
  };
}

function parallel(node, byKey) {
  const branches = node.branches.map((n) => box(n, byKey));
  const inner = Math.max(...branches.map((b) => b.w), 40);
  const stack = branches.reduce((sum, b) => sum + b.h, 0) + BRANCH_GAP * Math.max(0, branches.length - 1);
  const top = node.loop ? LABEL : 0;
  const w = inner + 2 * FORK + (node.loop ? 2 * 6 : 0);
  const h = top + stack + (node.loop ? 6 : 0);
  const mid = top + stack / 2;
  return {
    w, h, mid,
    draw(root, x, y, ctx) {
      const left = x + (node.loop ? 6 : 0);
      if (node.loop) {
        root.append(s("g", { class: "pic-loop" },
          s("rect", { x, y, width: w, height: h, rx: 8 }),
          s("text", { x: x + 8, y: y + 15 }, `⟳ ${branches.length} iteration${branches.length === 1 ? "" : "s"}`)));
      }
      let at = y + top;
      for (const b of branches) {
        const bx = left + FORK + (inner - b.w) / 2;
        root.append(s("path", { class: "pic-edge", d: `M${left},${y + mid} C${left + FORK / 2},${y + mid} ${left + FORK / 2},${at + b.mid} ${bx},${at + b.mid}` }));
        root.append(s("path", { class: "pic-edge", d: `M${bx + b.w},${at + b.mid} C${left + inner + FORK * 1.5},${at + b.mid} ${left + inner + FORK * 1.5},${y + mid} ${left + inner + 2 * FORK},${y + mid}` }));
        b.draw(root, bx, at, ctx);
        at += b.h + BRANCH_GAP;
      }
    },
  };
}

function group(node, byKey) {
  const main = sequence(node.steps, byKey);
  const back = node.rollback.length ? sequence(node.rollback, byKey) : null;
  const w = Math.max(main.w, back ? back.w : 0, 150) + 2 * PAD;
  const h = LABEL + main.h + (back ? LABEL + back.h + PAD / 2 : 0) + PAD;
  const record = byKey.get(node.key) || {};
  const t = tone(record.status);
  const status = record.status || "Not started";
  return {
    w, h, mid: LABEL + main.mid,
    draw(root, x, y, ctx) {
      const frame = s("g", {
        class: `pic-group tone-${t}`, tabindex: 0, role: "button", "aria-label": `${node.name}: ${status}`,
        dataset: { key: node.key, status },
        onkeydown: (e) => jump(e, node.key), onclick: (e) => jump(e, node.key),
      },
      s("title", {}, `Step group ${node.name}: ${status}`),
      s("rect", { x, y, width: w, height: h, rx: 8 }),
      s("text", { x: x + PAD, y: y + 16, class: "pic-group-title" }, `${ICONS[t]} ${fit(node.name, Math.floor(w / 8) - 6)} · ${status}`));
      root.append(frame);
      ctx.positions.set(node.key, { x, y, w, h });
      main.draw(root, x + PAD, y + LABEL, ctx);
      if (back) {
        const top = y + LABEL + main.h + PAD / 2;
        root.append(s("text", { x: x + PAD, y: top + 14, class: "pic-rollback-label" }, `↺ rollback of ${fit(node.name, 24)}`));
        back.draw(root, x + PAD, top + LABEL, ctx);
      }
    },
  };
}

function step(node, byKey) {
  const record = byKey.get(node.key);
  const status = (record && record.status) || "Not started";
  const t = tone(record && record.status);
  const ran = record && record.started_at;
  const time = record && record.ended_at ? ` · ${duration(record.duration)}` : "";
  return {
    w: W, h: H, mid: H / 2,
    draw(root, x, y, ctx) {
      ctx.positions.set(node.key, { x, y, w: W, h: H });
      root.append(s("g", {
        class: `pic-node tone-${t}${ran ? "" : " not-run"}`, transform: `translate(${x},${y})`, tabindex: 0, role: "button",
        "aria-label": `${node.name}: ${status}`, dataset: { key: node.key, status },
        onkeydown: (e) => jump(e, node.key), onclick: (e) => jump(e, node.key),
      },
      s("title", {}, `${node.name} (${node.type}): ${status}${time}`),
      s("rect", { width: W, height: H, rx: 6 }),
      s("text", { x: 10, y: 20, class: "pic-icon", "aria-hidden": "true" }, ICONS[t]),
      s("text", { x: 28, y: 20, class: "pic-name" }, fit(node.name, 21)),
      s("text", { x: 28, y: 38, class: "pic-sub" }, `${status}${time}`)));
    },
  };
}

// From the step that failed to the first rollback step that ran, when the stage rolled back.
function rollbackPath(stage, ex, ctx) {
  const mine = ex.steps.filter((st) => st.stage_key === stage.key && st.type !== "StepGroup");
  const failed = mine.filter((st) => st.phase !== "rollback" && tone(st.status) === "bad")
    .sort((a, b) => (a.ended_at || 0) - (b.ended_at || 0))[0];
  const first = mine.filter((st) => st.phase === "rollback" && st.started_at)
    .sort((a, b) => a.started_at - b.started_at)[0];
  const from = failed && ctx.positions.get(failed.key);
  const to = first && ctx.positions.get(first.key);
  if (!from || !to) return;
  // right of centre, clear of the rollback row's label at the left
  const x1 = from.x + from.w * 0.7, y1 = from.y + from.h, x2 = to.x + to.w * 0.7, y2 = to.y;
  const bend = Math.max(24, (y2 - y1) / 2);
  ctx.layer.append(s("path", {
    class: "pic-rollback-path", d: `M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2 - 2}`,
    "marker-end": `url(#${ctx.id})`, "aria-hidden": "true",
  }));
  ctx.layer.append(s("text", { x: (x1 + x2) / 2 + 6, y: (y1 + y2) / 2, class: "pic-rollback-label" }, "rollback"));
}

function jump(event, key) {
  if (event.type === "keydown" && event.key !== "Enter" && event.key !== " ") return;
  event.preventDefault();
  event.stopPropagation();
  const row = [...document.querySelectorAll("li.step")].find((li) => li.dataset.key === key);
  if (!row) return;
  row.scrollIntoView({ block: "center" });
  const logs = row.querySelector("button");
  if (logs) logs.focus();
}
