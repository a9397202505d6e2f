// A project's artifact triggers: their last poll, the tags each has seen and the runs they started.

import { ApiError, get, post } from "./api.js";
import { badge, h, link, when } from "./dom.js";
import { crumbs, projectNav } from "./pages.js";

const enc = encodeURIComponent;

export async function triggersPage(view, project) {
  const triggers = await get(`/projects/${enc(project)}/triggers`);
  const sections = await Promise.all(triggers.map((t) => triggerSection(project, t, view)));
  view.replaceChildren(
    crumbs(["#/projects", "Projects"], [`#/projects/${enc(project)}`, project], [null, "Triggers"]),
    h("h1", {}, "Triggers"),
    projectNav(project, "triggers"),
    ...(triggers.length ? sections
      : [h("p", { class: "empty" }, "No trigger in this project. A trigger: document runs a pipeline for each new image tag.")]),
  );
}

async function triggerSection(project, t, view) {
  const seen = await get(`/projects/${enc(project)}/triggers/${enc(t.identifier)}/history?limit=20`);
  const message = h("p", { role: "status" });
  const poll = h("button", { type: "button" }, "Poll now");
  poll.addEventListener("click", async () => {
    poll.disabled = true;
    try {
      const outcome = await post(`/projects/${enc(project)}/triggers/${enc(t.identifier)}/poll`);
      if (outcome.error) message.textContent = `Poll failed: ${outcome.error}`;
      else await triggersPage(view, project);
    } catch (e) {
      message.textContent = e instanceof ApiError && e.status === 403
        ? "Polling needs the deployer role." : `Could not poll: ${e.message}`;
    } finally {
      poll.disabled = false;
    }
  });
  const id = `trigger-${t.identifier}`;
  return h("section", { "aria-labelledby": id },
    h("h2", { id }, t.name, " ", h("code", {}, t.identifier)),
    h("dl", { class: "facts" },
      h("dt", {}, "Pipeline"), h("dd", {}, link(`#/projects/${enc(project)}/pipelines/${enc(t.pipeline)}`, t.pipeline)),
      h("dt", {}, "Source"), h("dd", {}, t.source),
      h("dt", {}, "Tag pattern"), h("dd", {}, t.tag_pattern ? h("code", {}, t.tag_pattern) : "any tag"),
      h("dt", {}, "Polls"), h("dd", {}, t.enabled ? `every ${t.poll_interval}` : "disabled"),
      h("dt", {}, "Last poll"), h("dd", {}, t.last_poll_at ? when(t.last_poll_at) : "not yet"),
      t.last_error ? [h("dt", {}, "Last error"), h("dd", { class: "error" }, t.last_error)] : null,
    ),
    h("p", {}, poll), message,
    seen.length ? h("table", {},
      h("caption", { class: "sr-only" }, `Tags seen by ${t.name}`),
      h("thead", {}, h("tr", {}, ["Tag", "First seen", "Status", "Execution"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, seen.map((s) => h("tr", {},
        h("td", {}, h("code", {}, s.tag)),
        h("td", {}, when(s.first_seen)),
        h("td", {}, badge(s.status), s.error ? h("span", { class: "muted" }, ` ${s.error}`) : null),
        h("td", {}, s.execution_id ? link(`#/executions/${enc(s.execution_id)}`, "View run") : ""),
      ))),
    ) : h("p", { class: "empty" }, "No tag seen yet."),
  );
}
