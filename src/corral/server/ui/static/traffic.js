// Where traffic goes, per stage whose services sit behind a load balancer: listener -> rule (and
// its role: production, test, stage) -> target groups (share of the traffic, healthy / total
// targets) -> services (Blue Green role or the target group's, tasks running / desired,
// revision). Edges are as thick as their share; 0 % is dashed.

import { h } from "./dom.js";
import { fit, s, svgRoot } from "./svg.js";

const COL = [0, 200, 470, 760], BOX_W = [170, 230, 250, 270], ROW = 62, BOX_H = 48, TOP = 8;

export function renderTraffic(container, data) {
  const shown = data.stages.filter((stage) => stage.error || (stage.load_balancers || []).length);
  container.replaceChildren(...shown.map((stage) => h("figure", { class: "pic pic-traffic", "aria-labelledby": `pic-traffic-${stage.stage_key}` },
    h("figcaption", { id: `pic-traffic-${stage.stage_key}` }, `Traffic · ${stage.stage}`),
    stage.error ? h("p", { class: "error" }, stage.error)
      : stage.load_balancers.map((lb) => h("div", { class: "pic-scroll" }, balancer(lb, stage.services || []))))));
}

function balancer(lb, services) {
  const byName = new Map(services.map((svc) => [svc.name, svc]));  // the status model's LiveService
  const rows = lb.listeners.reduce((sum, l) => sum + l.rules.reduce((n, r) => n + Math.max(1, r.targets.length), 0), 0);
  const height = TOP + rows * ROW + 24;
  const root = svgRoot(COL[3] + BOX_W[3] + 4, height, `Traffic through load balancer ${lb.name}`);
  root.append(s("text", { x: 2, y: height - 6, class: "pic-caption" }, `load balancer ${lb.name}`));
  let y = TOP;
  for (const listener of lb.listeners) {
    const lTop = y;
    const ruleMids = [];
    for (const rule of listener.rules) {
      const size = Math.max(1, rule.targets.length);
      const rTop = y, rMid = y + (size * ROW - (ROW - BOX_H)) / 2;
      ruleMids.push(rMid);
      const ruleName = rule.role ? `${rule.role} · ${rule.label}` : rule.label;
      root.append(box(COL[1], rMid - BOX_H / 2, BOX_W[1], `rule: ${ruleName}`, fit(ruleName, 34),
        `${rule.targets.length} target group${rule.targets.length === 1 ? "" : "s"}`, "pic-rule", { key: rule.arn }));
      rule.targets.forEach((target, i) => {
        const tMid = rTop + i * ROW + BOX_H / 2;
        const share = `${formatPercent(target.percent)}`;
        root.append(edge(COL[1] + BOX_W[1], rMid, COL[2], tMid, target.percent, share));
        const names = target.services;
        root.append(box(COL[2], tMid - BOX_H / 2, BOX_W[2],
          `target group ${target.name}: ${share} of ${listener.label} ${rule.label}, ${target.healthy} of ${target.total} targets healthy${names.length ? `, service ${names.join(", ")}` : ""}`,
          `${fit(target.name, 28)} · ${share}`, `${target.healthy}/${target.total} healthy · weight ${target.weight}`,
          `pic-target${target.percent > 0 ? " live" : ""}`, { key: `${rule.arn} ${target.arn}`, targetGroup: target.name, percent: String(target.percent), listener: listener.label, ruleRole: rule.role || "" }));
        const name = target.services[0];
        if (name) {
          const info = byName.get(name) || { counts: {} };
          const use = (info.target_groups || []).find((g) => g.arn === target.arn);
          const roles = [info.role, use && use.role].filter(Boolean);
          const role = roles.length ? ` · ${roles.join(" · ")}` : "";
          const counts = info.counts || {};
          root.append(s("line", { x1: COL[2] + BOX_W[2], y1: tMid, x2: COL[3], y2: tMid, class: "pic-edge" }));
          root.append(box(COL[3], tMid - BOX_H / 2, BOX_W[3],
            `service ${name}${role}: ${counts.running ?? "?"} of ${counts.desired ?? "?"} tasks running, ${info.task_definition || ""}`,
            `${fit(name, 20)}${role}`, `${counts.running ?? "?"}/${counts.desired ?? "?"} running · ${fit(info.task_definition || "", 18)}`,
            "pic-service", { key: `${rule.arn} ${target.arn} ${name}`, service: name }));
        }
      });
      y += size * ROW;
    }
    const lMid = (lTop + y - (ROW - BOX_H)) / 2;
    for (const rMid of ruleMids) root.append(edge(COL[0] + BOX_W[0], lMid, COL[1], rMid, 100, ""));
    root.append(box(COL[0], lMid - BOX_H / 2, BOX_W[0], `listener ${listener.label}`, `listener ${listener.label}`,
      `${listener.rules.length} rule${listener.rules.length === 1 ? "" : "s"}`, "pic-listener", { key: listener.arn }));
  }
  return root;
}

function box(x, y, w, label, line1, line2, cls, dataset) {
  return s("g", { class: `pic-box ${cls}`, tabindex: 0, "aria-label": label, dataset },
    s("title", {}, label),
    s("rect", { x, y, width: w, height: BOX_H, rx: 6 }),
    s("text", { x: x + 10, y: y + 20, class: "pic-name" }, line1),
    s("text", { x: x + 10, y: y + 38, class: "pic-sub" }, line2));
}

function edge(x1, y1, x2, y2, percent, text) {
  const mid = (x1 + x2) / 2;
  const g = s("g", { class: `pic-flow${percent > 0 ? "" : " none"}`, "aria-hidden": "true" },
    s("path", { d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`, "stroke-width": 1.5 + (Math.max(0, percent) / 100) * 7 }));
  if (text) g.append(s("text", { x: x2 - 44, y: y2 - 6, class: "pic-share" }, text));
  return g;
}

function formatPercent(value) {
  return `${Number.isInteger(value) ? value : value.toFixed(1)}%`;
}
