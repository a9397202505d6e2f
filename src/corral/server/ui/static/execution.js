// The live view of one execution: stages and steps with their state and duration (polled),
// logs per step (server-sent events), step outputs, approve or reject, abort.

import { get, post, stream } from "./api.js";
import { ENDED, badge, duration, h, replace, when } from "./dom.js";
import { executionPictures } from "./execution_pictures.js";
import { crumbs } from "./pages.js";

const enc = encodeURIComponent;
const POLL_MS = 700;

export function executionView(view, id) {
  const state = { execution: null, logs: new Map(), open: new Set(), approvalKey: null, stopped: false };
  const controller = new AbortController();
  const header = h("div", { class: "exec-header" });
  const approvalBox = h("div");
  const stagesBox = h("div", { class: "stages" });
  const notice = h("p", { class: "error", role: "alert" });
  const pictures = executionPictures(id);
  view.replaceChildren(header, notice, approvalBox, pictures.node, stagesBox);

  async function refresh() {
    try {
      state.execution = await get(`/executions/${enc(id)}`);
      render();
    } catch (e) {
      notice.textContent = `Could not load the execution: ${e.message}`;
    }
  }

  function render() {
    const ex = state.execution;
    renderHeader(header, ex, state, refresh, notice);
    renderApproval(approvalBox, ex, state, refresh, notice);
    renderStages(stagesBox, ex, state);
    pictures.update(ex);
  }

  async function poll() {
    while (!state.stopped && document.body.contains(stagesBox)) {
      await refresh();
      if (state.execution && state.execution.ended_at) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async function follow() {
    let after = 0;
    for (let attempt = 0; attempt < 5 && !state.stopped; attempt++) {
      try {
        await stream(`/executions/${enc(id)}/logs/stream?after=${after}`, (kind, data) => {
          if (kind === "log") {
            after = Math.max(after, data.id);
            if (!state.logs.has(data.step_key)) state.logs.set(data.step_key, []);
            state.logs.get(data.step_key).push(data);
            appendLog(stagesBox, data);
          } else if (kind === "status" || kind === "end") {
            refresh();
          }
        }, controller.signal);
        return;
      } catch (e) {
        if (controller.signal.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  // Leaving the page (hash change) stops polling and the stream.
  const stop = () => { state.stopped = true; controller.abort(); window.removeEventListener("hashchange", stop); };
  window.addEventListener("hashchange", stop);
  poll();
  follow();
}

function renderHeader(node, ex, state, refresh, notice) {
  const running = !ex.ended_at;
  const abort = running ? h("button", { type: "button", class: "danger", onclick: async (event) => {
    if (!confirm("Abort this execution? Its running stage rolls back.")) return;
    event.target.disabled = true;
    try { await post(`/executions/${enc(ex.id)}/abort`); } catch (e) { notice.textContent = e.message; }
    refresh();
  } }, "Abort") : null;
  replace(node,
    crumbs(["#/projects", "Projects"], [`#/projects/${enc(ex.project)}`, ex.project],
      [`#/projects/${enc(ex.project)}/executions`, "Executions"], [null, `#${ex.sequence_id}`]),
    h("div", { class: "title-row" },
      h("h1", {}, `${ex.pipeline_name} `, h("span", { class: "muted" }, `#${ex.sequence_id}`)),
      h("div", { class: "title-status", "aria-label": "Execution status", role: "status" }, badge(ex.status)),
      abort),
    h("dl", { class: "facts inline" },
      h("dt", {}, "Started"), h("dd", {}, when(ex.started_at || ex.created_at)),
      h("dt", {}, "Duration"), h("dd", {}, duration(ex.duration)),
      h("dt", {}, "By"), h("dd", {}, ex.triggered_by || ""),
      h("dt", {}, "Pipeline"), h("dd", {}, h("a", { href: `#/projects/${enc(ex.project)}/pipelines/${enc(ex.pipeline_id)}` }, ex.pipeline_id)),
    ),
    ex.error ? h("p", { class: "error" }, ex.error) : null,
  );
}

function renderApproval(node, ex, state, refresh, notice) {
  const waiting = ex.approvals.filter((a) => a.status === "Waiting");
  // drawn again when a step starts or stops waiting, or someone's vote is counted
  const key = waiting.map((a) => `${a.step_key}:${(a.votes || []).length}`).join(",") + (ex.ended_at ? ":ended" : "");
  if (key === state.approvalKey) return;
  state.approvalKey = key;
  if (!waiting.length || ex.ended_at) { node.replaceChildren(); return; }
  const approval = waiting[0];
  const comment = h("textarea", { id: "approval-comment", rows: "2", name: "comment" });
  const decide = (approve) => async (event) => {
    for (const button of node.querySelectorAll("button")) button.disabled = true;
    try {
      await post(`/executions/${enc(ex.id)}/approval`, { approve, comment: comment.value || null, step: approval.step_key });
    } catch (e) {
      notice.textContent = `The decision was not taken: ${e.message}`;
      for (const button of node.querySelectorAll("button")) button.disabled = false;
    }
    refresh();
    void event;
  };
  const groups = approval.approvers && approval.approvers.userGroups;
  const needed = Number((approval.approvers && approval.approvers.minimumCount) || 1);
  const voters = (approval.votes || []).filter((v) => v.decision === "Approve").map((v) => v.voter);
  replace(node, h("section", { class: "approval", "aria-labelledby": "approval-title" },
    h("h2", { id: "approval-title" }, "Approval needed"),
    h("p", {}, approval.message || "This step waits for a decision."),
    groups ? h("p", { class: "hint" }, `Approvers: ${[].concat(groups).join(", ")}`) : null,
    needed > 1 || voters.length
      ? h("p", { class: "hint" }, `Approved by ${voters.length ? voters.join(", ") : "nobody yet"} (${voters.length} of ${needed} needed)`)
      : null,
    h("label", { for: "approval-comment" }, "Comment"),
    comment,
    h("div", { class: "buttons" },
      h("button", { type: "button", class: "primary", onclick: decide(true) }, "Approve"),
      h("button", { type: "button", class: "danger", onclick: decide(false) }, "Reject")),
  ));
}

function renderStages(node, ex, state) {
  const sections = ex.stages.map((stage) => {
    const steps = ex.steps.filter((s) => s.stage_key === stage.key);
    return h("section", { class: "stage", "aria-labelledby": `stage-${stage.key}` },
      h("div", { class: "stage-head" },
        h("h2", { id: `stage-${stage.key}` }, stage.name),
        badge(stage.status),
        h("span", { class: "muted" }, duration(stage.duration)),
        stage.rolled_back ? h("span", { class: "badge badge-wait" }, "rolled back") : null),
      stage.error && stage.error !== ex.error ? h("p", { class: "error" }, stage.error) : null,
      steps.length
        ? h("ol", { class: "steps", "aria-label": `Steps of ${stage.name}` }, steps.map((step) => stepItem(step, state)))
        : h("p", { class: "muted" }, stage.status === "Queued" ? "Not started yet." : "No step has run yet."),
    );
  });
  // Keep the reader's place: only the step list changes, the scroll position stays.
  replace(node, sections.length ? sections : h("p", { class: "muted" }, "Starting…"));
}

function stepItem(step, state) {
  const open = state.open.has(step.key);
  const logId = `log-${step.key.replace(/\W+/g, "-")}`;
  const toggle = h("button", {
    type: "button", class: "link", "aria-expanded": open ? "true" : "false", "aria-controls": logId,
    "aria-label": `Logs of ${step.name}`,
    onclick: () => {
      if (state.open.has(step.key)) state.open.delete(step.key); else state.open.add(step.key);
      const item = toggle.closest("li");
      item.replaceWith(stepItem(step, state));
    },
  }, open ? "Hide logs" : "Logs");
  const outputs = Object.entries(step.outputs || {}).filter(([, v]) => v !== null && v !== "");
  const lines = state.logs.get(step.key) || [];
  return h("li", { class: `step step-${(step.status || "").toLowerCase()}`, dataset: { key: step.key, status: step.status }, "aria-label": `${step.name}: ${step.status}` },
    h("div", { class: "step-row" },
      h("span", { class: "dot", "aria-hidden": "true" }),
      h("span", { class: "step-name" }, step.name),
      h("span", { class: "muted step-type" }, step.phase === "rollback" ? `${step.type} · rollback` : step.type),
      badge(step.status),
      h("span", { class: "muted step-time" }, duration(step.duration)),
      toggle),
    step.error ? h("p", { class: "error" }, step.error) : null,
    open && outputs.length ? h("details", { open: true, class: "outputs" },
      h("summary", {}, "Outputs"),
      h("dl", { class: "facts" }, outputs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, h("code", {}, typeof v === "object" ? JSON.stringify(v) : String(v)))]))) : null,
    open ? h("pre", { class: "log", id: logId, "aria-label": `Log of ${step.name}`, tabindex: "0" },
      lines.length ? lines.map(logLine) : h("span", { class: "muted" }, "No log line yet.")) : null,
  );
}

function logLine(line) {
  const time = new Date(line.at * 1000).toLocaleTimeString();
  return h("span", { class: `line level-${(line.level || "info").toLowerCase()}` },
    h("span", { class: "ts" }, time), line.section ? h("span", { class: "section" }, ` [${line.section}] `) : " ",
    line.message, "\n");
}

function appendLog(node, line) {
  const item = [...node.querySelectorAll("li.step")].find((li) => li.dataset.key === line.step_key);
  const pre = item && item.querySelector("pre.log");
  if (!pre) return;
  if (pre.querySelector(".muted")) pre.replaceChildren();
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.append(logLine(line));
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}
