// Corral's web UI: a hash router over the screens. No build step: plain ES modules.

import { ApiError, get, post, token } from "./api.js";
import { h, replace } from "./dom.js";
import { executionView } from "./execution.js";
import { entityDetail, entityList, history, kindByPath, projects, signIn } from "./pages.js";
import { runForm } from "./run.js";
import { serviceHistory, statusPage } from "./status.js";
import { triggersPage } from "./triggers.js";
import { chartsPage } from "./charts.js";

const view = document.getElementById("view");
const who = document.getElementById("who");
let me = null;

const dec = decodeURIComponent;

async function route() {
  const [path, search] = (location.hash.slice(1) || "/projects").split("?");
  const params = new URLSearchParams(search || "");
  const parts = path.split("/").filter(Boolean).map(dec);
  if (parts[0] === "signin" || !token.get()) {
    showUser(null);
    return signIn(view, { onSignedIn: (user) => { showUser(user); location.hash = "#/projects"; } });
  }
  if (!me) {
    try { showUser(await get("/me")); } catch { return; }
  }
  markNav(parts[0]);
  view.setAttribute("aria-busy", "true");
  try {
    if (parts[0] === "executions" && parts[1]) return executionView(view, parts[1]);
    if (parts[0] === "executions") return await history(view, null);
    if (parts[0] !== "projects" || !parts[1]) return await projects(view);
    const [, project, section, id, action] = parts;
    if (!section) { location.replace(`#/projects/${encodeURIComponent(project)}/pipelines`); return; }
    if (section === "executions") return await history(view, project);
    if (section === "triggers") return await triggersPage(view, project);
    if (section === "deployments") return await chartsPage(view, project);
    if (section === "status") return await statusPage(view, project);
    if (section === "services" && id && action === "history") return await serviceHistory(view, project, id);
    if (!kindByPath(section)) return notFound();
    if (section === "pipelines" && id && action === "run") return await runForm(view, project, id);
    if (id) return await entityDetail(view, project, section, id, params.get("scope"));
    return await entityList(view, project, section);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    replace(view, h("h1", {}, "Something went wrong"), h("p", { class: "error", role: "alert" }, e.message));
  } finally {
    view.removeAttribute("aria-busy");
    const heading = view.querySelector("h1");
    if (heading) document.title = `${heading.textContent} · Corral`;
  }
}

function notFound() {
  replace(view, h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/projects" }, "Back to projects")));
}

function showUser(user) {
  me = user;
  if (!user) { who.replaceChildren(); return; }
  who.replaceChildren(
    h("span", { class: "muted" }, "Signed in as "), h("strong", {}, user.name),
    h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"),
  );
}

// Signing out revokes the token on the server too: a copy left in the tab's history or a
// shared screen opens nothing afterwards.
async function signOut() {
  try { await post("/signout"); } catch { /* revoked or expired already */ }
  token.clear();
  me = null;
  location.hash = "#/signin";
}

function markNav(section) {
  for (const a of document.querySelectorAll("#main-nav a")) {
    const current = a.dataset.section === (section === "executions" ? "executions" : "projects");
    if (current) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
}

window.addEventListener("hashchange", route);
route();
