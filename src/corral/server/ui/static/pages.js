// Sign in, projects, and the entities of a project (lists and a detail with its YAML).

import { ApiError, get, token } from "./api.js";
import { badge, duration, h, link, toYaml, when } from "./dom.js";

export const KINDS = [
  { kind: "pipeline", path: "pipelines", title: "Pipelines", one: "Pipeline" },
  { kind: "service", path: "services", title: "Services", one: "Service" },
  { kind: "environment", path: "environments", title: "Environments", one: "Environment" },
  { kind: "infrastructureDefinition", path: "infrastructure", title: "Infrastructure definitions", one: "Infrastructure definition" },
  { kind: "connector", path: "connectors", title: "Connectors", one: "Connector" },
  { kind: "secret", path: "secrets", title: "Secrets", one: "Secret" },
  { kind: "inputSet", path: "input-sets", title: "Input sets", one: "Input set" },
];
export const kindByPath = (path) => KINDS.find((k) => k.path === path);

const enc = encodeURIComponent;

export function signIn(view, { onSignedIn }) {
  const error = h("p", { class: "error", role: "alert" });
  const input = h("input", {
    id: "token", name: "token", type: "password", autocomplete: "off", required: true,
    placeholder: "crl_…", "aria-describedby": "token-help",
  });
  const form = h("form", { class: "card narrow", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in to Corral"),
    h("label", { for: "token" }, "API token"),
    input,
    h("p", { id: "token-help", class: "hint" },
      "Paste a token made with ", h("code", {}, "corral server token"), " or by an administrator. ",
      "It is kept for this browser tab only."),
    error,
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const value = input.value.trim();
    try {
      const me = await get("/me", { auth: value });
      token.set(value);
      onSignedIn(me);
    } catch (e) {
      error.textContent = e instanceof ApiError && e.status === 401
        ? "That token is unknown, revoked or expired." : `Could not sign in: ${e.message}`;
    }
  });
  view.replaceChildren(form);
  input.focus();
}

export async function projects(view) {
  const list = await get("/projects");
  const rows = list.map((p) => h("tr", {},
    h("td", {}, link(`#/projects/${enc(p.name)}`, p.name)),
    h("td", {}, p.role || ""),
    h("td", {}, p.git_url ? `${p.git_url} @ ${p.git_ref}` : "uploaded"),
    h("td", { class: "num" }, String(p.entities.pipeline || 0)),
    h("td", { class: "num" }, String(p.entities.service || 0)),
    h("td", { class: "num" }, String(p.entities.environment || 0)),
  ));
  view.replaceChildren(
    h("h1", {}, "Projects"),
    list.length ? h("table", {},
      h("caption", { class: "sr-only" }, "Projects"),
      h("thead", {}, h("tr", {}, ["Project", "Your role", "Source", "Pipelines", "Services", "Environments"]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows),
    ) : h("p", { class: "empty" }, "No project yet. Create one with the API or `corral server` tools."),
  );
}

export function projectNav(project, current) {
  const items = [
    ["status", "Status"],
    ...KINDS.filter((k) => k.kind !== "inputSet").map((k) => [k.path, k.title]),
    ["executions", "Executions"],
    ["triggers", "Triggers"],
    ["deployments", "Deployment charts"],
  ];
  return h("nav", { class: "tabs", "aria-label": `Project ${project}` },
    items.map(([path, title]) => link(`#/projects/${enc(project)}/${path}`, title,
      { "aria-current": path === current ? "page" : null })));
}

export function crumbs(...parts) {
  return h("nav", { class: "crumbs", "aria-label": "Breadcrumb" },
    h("ol", {}, parts.map(([href, text]) => h("li", {}, href ? link(href, text) : text))));
}

export async function entityList(view, project, path) {
  const info = kindByPath(path);
  const entities = await get(`/projects/${enc(project)}/entities${info.kind ? `?kind=${info.kind}` : ""}`);
  const scoped = info.kind === "infrastructureDefinition";
  const head = ["Name", "Identifier", ...(scoped ? ["Environment"] : []), "File", ...(info.kind === "pipeline" ? [""] : [])];
  const rows = entities.map((e) => {
    const href = `#/projects/${enc(project)}/${path}/${enc(e.identifier)}${e.scope ? `?scope=${enc(e.scope)}` : ""}`;
    return h("tr", {},
      h("td", {}, link(href, e.name || e.identifier)),
      h("td", {}, h("code", {}, e.identifier)),
      scoped ? h("td", {}, e.scope || "") : null,
      h("td", { class: "muted" }, e.file),
      info.kind === "pipeline"
        ? h("td", { class: "actions" }, link(`#/projects/${enc(project)}/pipelines/${enc(e.identifier)}/run`,
          "Run", { class: "button", "aria-label": `Run ${e.name || e.identifier}` }))
        : null,
    );
  });
  view.replaceChildren(
    crumbs(["#/projects", "Projects"], [`#/projects/${enc(project)}`, project], [null, info.title]),
    h("h1", {}, info.title),
    projectNav(project, path),
    entities.length ? h("table", {},
      h("caption", { class: "sr-only" }, info.title),
      h("thead", {}, h("tr", {}, head.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows),
    ) : h("p", { class: "empty" }, `No ${info.title.toLowerCase()} in this project.`),
    info.kind === "secret"
      ? h("p", { class: "hint" }, "Secret values are write-only: Corral never shows them.") : null,
  );
}

export async function entityDetail(view, project, path, identifier, scope) {
  const info = kindByPath(path);
  const entity = await get(`/projects/${enc(project)}/entities/${info.kind}/${enc(identifier)}${scope ? `?scope=${enc(scope)}` : ""}`);
  const title = `${info.one}: ${entity.name || entity.identifier}`;
  const facts = [["Identifier", h("code", {}, entity.identifier)], ["File", entity.file]];
  if (entity.scope) facts.push([info.kind === "inputSet" ? "Pipeline" : "Environment", entity.scope]);
  const extra = [];
  if (info.kind === "pipeline") {
    extra.push(h("p", {}, link(`#/projects/${enc(project)}/pipelines/${enc(identifier)}/run`, "Run pipeline", { class: "button primary" })));
    const runs = await get(`/executions?project=${enc(project)}&pipeline=${enc(identifier)}&limit=10`);
    extra.push(h("h2", {}, "Recent executions"), historyTable(runs, false));
  }
  if (info.kind === "service") {
    extra.push(h("p", {}, link(`#/projects/${enc(project)}/services/${enc(identifier)}/history`, "Deployment history"),
      " · ", link(`#/projects/${enc(project)}/status`, "What runs where")));
  }
  view.replaceChildren(
    crumbs(["#/projects", "Projects"], [`#/projects/${enc(project)}`, project],
      [`#/projects/${enc(project)}/${path}`, info.title], [null, entity.name || identifier]),
    projectNav(project, path),
    h("h1", {}, title),
    h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    ...extra,
    h("h2", { id: "yaml-title" }, "YAML"),
    h("pre", { class: "yaml", "aria-labelledby": "yaml-title", tabindex: "0" }, toYaml(entity.document)),
  );
}

export function historyTable(runs, withPipeline = true) {
  if (!runs.length) return h("p", { class: "empty" }, "No execution yet.");
  return h("table", {},
    h("caption", { class: "sr-only" }, "Executions"),
    h("thead", {}, h("tr", {}, [...(withPipeline ? ["Pipeline"] : []), "Run", "Status", "Started", "Duration", "By"]
      .map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, runs.map((r) => h("tr", {},
      withPipeline ? h("td", {}, `${r.pipeline_name}`, h("span", { class: "muted" }, ` (${r.project})`)) : null,
      h("td", {}, link(`#/executions/${enc(r.id)}`, `#${r.sequence_id}`, { "aria-label": `Execution ${r.sequence_id} of ${r.pipeline_name}` })),
      h("td", {}, badge(r.status)),
      h("td", {}, when(r.started_at || r.created_at)),
      h("td", {}, duration(r.duration)),
      h("td", {}, r.triggered_by || ""),
    ))),
  );
}

export async function history(view, project) {
  const runs = await get(`/executions${project ? `?project=${enc(project)}` : ""}`);
  view.replaceChildren(
    project
      ? crumbs(["#/projects", "Projects"], [`#/projects/${enc(project)}`, project], [null, "Executions"])
      : crumbs([null, "Executions"]),
    h("h1", {}, project ? "Executions" : "All executions"),
    project ? projectNav(project, "executions") : null,
    historyTable(runs, true),
  );
}
