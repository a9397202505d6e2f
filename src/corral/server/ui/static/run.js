// Run a pipeline: a form for its runtime inputs (defaults, allowed values as selects, choices
// looked up in AWS through the stage's connector), then off to the live execution view.

import { ApiError, get, post, query } from "./api.js";
import { h } from "./dom.js";
import { crumbs } from "./pages.js";

const enc = encodeURIComponent;
const AWS_NAMES = {
  clusters: "clusters", "load-balancers": "load balancers", listeners: "listeners",
  rules: "listener rules", "target-groups": "target groups",
};

function humanize(label) {
  return label.replace(/\[(\d+)\]$/, " $1").replace(/([a-z])([A-Z])/g, "$1 $2")
    .replace(/^./, (c) => c.toUpperCase()).replace(/\bArn\b/, "ARN");
}

export async function runForm(view, project, pipeline) {
  const form = await get(`/projects/${enc(project)}/pipelines/${enc(pipeline)}/form`);
  const controls = new Map(); // key -> {field, control}
  const groups = new Map();
  for (const field of form.fields) {
    const legend = field.source === "pipeline" ? "Pipeline" : field.source.replace(/^(\w)/, (c) => c.toUpperCase());
    if (!groups.has(legend)) groups.set(legend, []);
    groups.get(legend).push(field);
  }
  const fieldsets = [...groups.entries()].map(([legend, fields]) => h("fieldset", {},
    h("legend", {}, legend),
    fields.map((field, index) => {
      const id = `input-${legend.replace(/\W+/g, "-")}-${index}`;
      const control = makeControl(field, id);
      controls.set(field.key, { field, control });
      return h("div", { class: "field" },
        // the star is outside the label: the control's `required` already tells assistive tech
        h("div", { class: "label-row" }, h("label", { for: id }, humanize(field.label)),
          field.required ? h("span", { class: "req", "aria-hidden": "true", title: "required" }, "*") : null),
        control.node,
        h("p", { class: "hint", id: `${id}-hint` },
          h("code", {}, field.key),
          field.aws ? ` · ${AWS_NAMES[field.aws]} from connector ${field.connector || "?"}` : "",
          field.default !== null && field.default !== undefined ? ` · default ${field.default}` : ""),
        control.status,
      );
    }),
  ));

  const message = h("div", { class: "error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, "Run pipeline");
  const node = h("form", { class: "run-form", "aria-labelledby": "run-title" },
    form.fields.length ? fieldsets : h("p", { class: "empty" }, "This pipeline takes no runtime input."),
    message,
    h("div", { class: "buttons" }, submit,
      h("a", { href: `#/projects/${enc(project)}/pipelines/${enc(pipeline)}`, class: "button" }, "Cancel")),
  );
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    const inputs = {};
    for (const [key, { control }] of controls) {
      const value = control.value();
      if (value !== "") inputs[key] = value;
    }
    submit.disabled = true;
    try {
      const ref = await post(`/projects/${enc(project)}/pipelines/${enc(pipeline)}/executions`, { inputs });
      location.hash = `#/executions/${enc(ref.id)}`;
    } catch (e) {
      submit.disabled = false;
      message.append(h("p", {}, `The pipeline did not start: ${e.message}`));
      if (e instanceof ApiError && e.problems.length) {
        message.append(h("ul", {}, e.problems.map((p) => h("li", {}, `${p.file} ${p.path}: ${p.message}`))));
      }
    }
  });

  view.replaceChildren(
    crumbs(["#/projects", "Projects"], [`#/projects/${enc(project)}`, project],
      [`#/projects/${enc(project)}/pipelines`, "Pipelines"],
      [`#/projects/${enc(project)}/pipelines/${enc(pipeline)}`, form.name], [null, "Run"]),
    h("h1", { id: "run-title" }, `Run ${form.name}`),
    node,
  );

  // AWS-backed choices: load those that depend on nothing, then follow their parents.
  for (const { field, control } of controls.values()) {
    if (!field.aws) continue;
    const parent = field.depends_on && controls.get(field.depends_on);
    if (parent) parent.control.node.addEventListener("change", () => control.load(project, parent.control.value()));
    if (!parent) control.load(project, null);
  }
  for (const { field, control } of controls.values()) {
    const parent = field.aws && field.depends_on && controls.get(field.depends_on);
    if (parent && !parent.field.aws && parent.control.value()) control.load(project, parent.control.value());
  }
}

function makeControl(field, id) {
  const described = `${id}-hint`;
  const status = h("p", { class: "hint lookup", "aria-live": "polite" });
  const initial = field.default === null || field.default === undefined ? "" : String(field.default);
  if (field.allowed_values && field.allowed_values.length) {
    const select = h("select", { id, name: field.key, required: field.required, "aria-describedby": described },
      field.required && !initial ? h("option", { value: "" }, "— choose —") : null,
      field.allowed_values.map((v) => h("option", { value: v, selected: v === initial }, v)));
    return { node: select, status, value: () => select.value, load() {} };
  }
  const input = h("input", { id, name: field.key, type: "text", value: initial, required: field.required,
    "aria-describedby": described, autocomplete: "off" });
  if (!field.aws) return { node: input, status, value: () => input.value.trim(), load() {} };

  // A select filled from AWS; when the look-up fails, the text box stays so a value can be typed.
  const wrapper = h("div", { class: "aws-field" }, input);
  let select = null;
  const self = {
    node: wrapper,
    status,
    value: () => (select ? select.value : input.value.trim()),
    async load(project, parentValue) {
      if (field.depends_on && !parentValue) {
        status.textContent = "Choose the field above first.";
        return;
      }
      status.textContent = `Loading ${AWS_NAMES[field.aws]}…`;
      const params = { connector: field.connector, region: field.region };
      if (field.aws === "listeners") params.loadBalancer = parentValue;
      if (field.aws === "rules") params.listener = parentValue;
      try {
        const choices = await get(`/projects/${enc(project)}/aws/${field.aws}${query(params)}`);
        const current = self.value() || initial;
        const next = h("select", { id, name: field.key, required: field.required, "aria-describedby": described },
          h("option", { value: "" }, choices.length ? "— choose —" : `no ${AWS_NAMES[field.aws]} found`),
          choices.map((c) => h("option", { value: c.value, selected: c.value === current }, c.label)));
        wrapper.replaceChildren(next);
        select = next; // its change events bubble to the wrapper, which dependent fields watch
        status.textContent = `${choices.length} ${AWS_NAMES[field.aws]} in ${field.region || "the connector's region"}.`;
        wrapper.dispatchEvent(new Event("change"));
      } catch (e) {
        status.textContent = `Could not list ${AWS_NAMES[field.aws]} (${e.message}); type a value.`;
      }
    },
  };
  if (!field.connector) {
    self.load = async () => { status.textContent = "No AWS connector known for this field; type a value."; };
  }
  return self;
}
