// The services dashboard: what version runs where (GET /projects/{p}/status), one table per
// environment and infrastructure, refreshed every few seconds while it is shown; and a service's
// history (GET /projects/{p}/services/{s}/history).

import { get } from "./api.js";
import { badge, h, link, replace, when } from "./dom.js";
import { crumbs, projectNav } from "./pages.js";

const enc = encodeURIComponent;
const REFRESH_MS = 5000;  // each look is a dozen AWS read calls per service
let shown = 0;  // the dashboard on screen now: an older one's timer stops

export async function statusPage(view, project) {
  const data = await get(`/projects/${enc(project)}/status`);
  const live = h("input", { type: "checkbox", id: "status-live", checked: true });
  const stamp = h("p", { class: "hint", role: "status", "aria-live": "polite", id: "status-read-at" });
  const body = h("div", { id: "status-body" });
  const refresh = h("button", { type: "button" }, "Refresh now");
  const show = (answer) => {
    stamp.textContent = `AWS read at ${when(answer.read_at)}`;
    replace(body, dashboard(project, answer));
  };
  const reload = async () => {
    refresh.disabled = true;
    try { show(await get(`/projects/${enc(project)}/status`)); } catch (e) { stamp.textContent = `Could not refresh: ${e.message}`; }
    finally { refresh.disabled = false; }
  };
  refresh.addEventListener("click", reload);
  view.replaceChildren(
    crumbs(["#/projects", "Projects"], [`#/projects/${enc(project)}`, project], [null, "Status"]),
    h("h1", {}, "What runs where"),
    projectNav(project, "status"),
    h("div", { class: "status-tools" }, refresh,
      h("label", { for: "status-live", class: "check" }, live, " Refresh every few seconds"), stamp),
    body,
  );
  show(data);
  // follow a deployment while the page is shown; stop when the route changes
  const here = location.hash;
  const mine = ++shown;
  const timer = setInterval(() => {
    if (location.hash !== here || mine !== shown) { clearInterval(timer); return; }
    if (live.checked && !document.hidden && !refresh.disabled) reload();
  }, REFRESH_MS);
}

function dashboard(project, data) {
  if (!data.services.length) {
    return h("p", { class: "empty" }, "No service to show: no pipeline deploys one to an infrastructure yet.");
  }
  const groups = new Map();
  for (const row of data.services) {
    const key = `${row.environment}/${row.infrastructure}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(row);
  }
  return [...groups.values()].map((rows) => environmentSection(project, rows));
}

function environmentSection(project, rows) {
  const head = rows[0];
  const id = `env-${head.environment}-${head.infrastructure}`;
  return h("section", { class: "status-env", "aria-labelledby": id },
    h("h2", { id }, `${head.environment_name} `, h("span", { class: "muted" },
      `${head.environment_type} · infrastructure ${head.infrastructure}`
      + (head.cluster ? ` · cluster ${head.cluster} (${head.region})` : ""))),
    h("table", { class: "status-table" },
      h("caption", { class: "sr-only" }, `Services in ${head.environment_name}, infrastructure ${head.infrastructure}`),
      h("thead", {}, h("tr", {}, ["Service", "ECS service", "Role", "Revision", "Image", "Tasks", "Rollout", "Traffic", "Scaling", "Last deployed"]
        .map((t) => h("th", { scope: "col" }, t)))),
      rows.map((row) => serviceRows(project, row)),
    ),
  );
}

function serviceRows(project, row) {
  const services = row.live && row.live.exists ? row.live.services : [null];
  const span = services.length;
  const lines = services.map((service, index) => h("tr", {
    class: service && service.role ? `row-${service.role.toLowerCase()}` : null,
    "aria-label": service ? `${row.service}: ${service.name}${service.role ? ` ${service.role}` : ""}` : row.service,
  },
  index === 0 ? h("th", { scope: "rowgroup", rowspan: span, class: "svc" },
    link(`#/projects/${enc(project)}/services/${enc(row.service)}/history`, row.service_name,
      { "aria-label": `History of ${row.service_name}` }),
    h("div", { class: "muted" }, row.live && row.live.exists ? row.live.kind : "")) : null,
  ...(service ? serviceCells(service, row.live.routes) : missingCells(row)),
  index === 0 ? h("td", { rowspan: span }, lastDeployed(row)) : null,
  ));
  const notes = [];
  if (row.error) notes.push(h("p", { class: "error", role: "alert" }, row.error));
  for (const item of row.drift) notes.push(h("p", { class: "drift", role: "alert" }, h("strong", {}, "Drift: "), item));
  if (row.live && row.live.routes.length) notes.push(routesList(row.live.routes));
  return h("tbody", { "data-service": row.service },
    lines,
    notes.length ? h("tr", { class: "status-notes" }, h("td", { colspan: 10 }, notes)) : null,
  );
}

function serviceCells(service, routes) {
  const c = service.counts;
  return [
    h("td", {}, h("code", {}, service.name)),
    h("td", {}, service.role ? h("span", { class: `role role-${service.role.toLowerCase()}` }, service.role) : ""),
    h("td", {}, service.task_definition ? h("code", {}, service.task_definition) : ""),
    h("td", {}, service.images.map((image) => h("div", {}, h("code", { title: image }, shortImage(image))))),
    h("td", { class: "num", title: "running / desired / pending" }, `${c.running}/${c.desired}/${c.pending}`),
    h("td", {}, rollout(service)),
    h("td", {}, traffic(service, routes)),
    h("td", {}, service.autoscaling ? `${service.autoscaling.min}–${service.autoscaling.max}` : ""),
  ];
}

function missingCells(row) {
  const text = row.error ? "not read" : row.live && !row.live.exists ? "not in AWS" : "";
  return [h("td", {}, row.ecs_service ? h("code", {}, row.ecs_service) : ""), h("td", { colspan: 7, class: "muted" }, text)];
}

function rollout(service) {
  const native = service.service_deployment;
  if (native) return [ecsBadge(native.status), native.lifecycle_stage ? h("div", { class: "muted" }, native.lifecycle_stage) : null];
  const primary = service.deployments.find((d) => d.status === "PRIMARY");
  const older = service.deployments.length - 1;
  return [primary && primary.rollout_state ? ecsBadge(primary.rollout_state) : "",
    older > 0 ? h("div", { class: "muted" }, `+${older} older deployment${older > 1 ? "s" : ""}`) : null];
}

function traffic(service, routes) {
  const mine = new Set(service.target_groups.map((g) => g.arn));
  return routes.filter((r) => r.targets.some((t) => mine.has(t.arn))).map((route) => {
    const percent = route.targets.filter((t) => mine.has(t.arn)).reduce((sum, t) => sum + t.percent, 0);
    const name = route.role || route.listener;
    return h("div", { class: "weight", "data-role": route.role || "" },
      h("span", {}, `${name} ${percent}%`),
      h("meter", { min: 0, max: 100, value: percent, "aria-label": `${name} traffic to ${service.name}` }));
  });
}

function routesList(routes) {
  return h("details", { class: "routes" },
    h("summary", {}, `Listener rules (${routes.length})`),
    h("ul", {}, routes.map((route) => h("li", {},
      h("strong", {}, `${route.load_balancer} ${route.listener}`), ` ${route.rule}`,
      route.role ? h("span", { class: "muted" }, ` (${route.role})`) : null, " → ",
      route.targets.map((t, i) => [i ? ", " : "",
        h("code", {}, t.name), ` ${t.percent}% (${t.healthy}/${t.total} healthy)`,
        t.services.length ? ` → ${t.services.join(", ")}` : ""]),
    ))),
  );
}

function lastDeployed(row) {
  const item = row.deployed;
  const attempt = row.last_attempt;
  return [
    item ? deploymentLine(item) : h("span", { class: "muted" }, "not deployed by Corral"),
    attempt ? h("div", { class: "attempt" }, "since: ", deploymentLine(attempt)) : null,
  ];
}

function deploymentLine(item) {
  return h("span", {},
    link(`#/executions/${enc(item.execution_id)}`, `#${item.sequence_id} ${item.pipeline_name}`,
      { "aria-label": `Execution ${item.sequence_id} of ${item.pipeline_name}` }),
    " ", badge(item.status), item.rolled_back ? h("span", { class: "muted" }, " rolled back") : null,
    h("div", { class: "muted" }, [item.tag ? `tag ${item.tag}` : null, item.triggered_by ? `by ${item.triggered_by}` : null,
      when(item.ended_at || item.started_at)].filter(Boolean).join(" · ")),
  );
}

const ECS_TONES = {
  COMPLETED: "ok", SUCCESSFUL: "ok", IN_PROGRESS: "run", PENDING: "run", ROLLBACK_REQUESTED: "wait",
  ROLLBACK_IN_PROGRESS: "wait", STOP_REQUESTED: "wait", FAILED: "bad", ROLLBACK_FAILED: "bad",
  ROLLBACK_SUCCESSFUL: "wait", STOPPED: "muted",
};

// ECS's own states (rolloutState, a service deployment's status) in the UI's badge tones.
function ecsBadge(state) {
  return h("span", { class: `badge badge-${ECS_TONES[state] || "idle"}`, dataset: { status: state } }, state);
}

function shortImage(image) {
  const [first, ...rest] = image.split("/");
  return rest.length && (first.includes(".") || first.includes(":") || first === "localhost") ? rest.join("/") : image;
}

export async function serviceHistory(view, project, service) {
  const items = await get(`/projects/${enc(project)}/services/${enc(service)}/history`);
  view.replaceChildren(
    crumbs(["#/projects", "Projects"], [`#/projects/${enc(project)}`, project],
      [`#/projects/${enc(project)}/status`, "Status"], [null, service]),
    h("h1", {}, `History of ${service}`),
    projectNav(project, "status"),
    items.length ? h("table", {},
      h("caption", { class: "sr-only" }, `Deployments of ${service}, newest first`),
      h("thead", {}, h("tr", {}, ["Run", "Stage", "Environment", "Tag", "Image", "Status", "By", "Ended"]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, items.map((item) => h("tr", {},
        h("td", {}, link(`#/executions/${enc(item.execution_id)}`, `#${item.sequence_id} ${item.pipeline_name}`,
          { "aria-label": `Execution ${item.sequence_id} of ${item.pipeline_name}` })),
        h("td", {}, item.stage),
        h("td", {}, `${item.environment} / ${item.infrastructure || ""}`),
        h("td", {}, item.tag || ""),
        h("td", {}, item.image ? h("code", { title: item.image }, shortImage(item.image)) : ""),
        h("td", {}, badge(item.status), item.rolled_back ? h("span", { class: "muted" }, " rolled back") : null),
        h("td", {}, item.triggered_by || ""),
        h("td", {}, when(item.ended_at || item.started_at)),
      ))),
    ) : h("p", { class: "empty" }, "Corral has not deployed this service yet."),
  );
}
