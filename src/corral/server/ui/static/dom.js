// Small DOM and formatting helpers shared by the screens.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export const link = (href, text, attrs = {}) => h("a", { href, ...attrs }, text);

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function when(epoch) {
  if (!epoch) return "";
  return new Date(epoch * 1000).toLocaleString(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

export const TONES = {
  Success: "ok", Succeeded: "ok", Approved: "ok", IgnoreFailed: "ok",
  Running: "run", AsyncWaiting: "run", Queued: "idle", NotStarted: "idle", Skipped: "idle",
  ApprovalWaiting: "wait", Waiting: "wait", InterventionWaiting: "wait", Paused: "wait",
  Failed: "bad", Errored: "bad", Rejected: "bad", Expired: "bad", ApprovalRejected: "bad",
  Aborted: "muted",
};

export function badge(status) {
  const tone = TONES[status] || "idle";
  return h("span", { class: `badge badge-${tone}`, dataset: { status } }, status || "Not started");
}

export const ENDED = new Set(["Success", "Failed", "Aborted", "Expired", "Rejected", "Errored", "IgnoreFailed", "ApprovalRejected"]);

// A plain YAML rendering of a JSON document, for reading (not for round trips).
export function toYaml(value, indent = "") {
  if (Array.isArray(value)) {
    if (!value.length) return "[]";
    return value.map((item) => {
      if (item && typeof item === "object" && Object.keys(item).length) {
        const inner = toYaml(item, indent + "  ");
        return `${indent}- ${inner.slice(indent.length + 2)}`;
      }
      return `${indent}- ${scalar(item)}`;
    }).join("\n");
  }
  if (value && typeof value === "object") {
    const keys = Object.keys(value);
    if (!keys.length) return "{}";
    return keys.map((key) => {
      const item = value[key];
      const name = `${indent}${scalarKey(key)}:`;
      if (item && typeof item === "object" && (Array.isArray(item) ? item.length : Object.keys(item).length)) {
        return `${name}\n${toYaml(item, Array.isArray(item) ? indent : indent + "  ")}`;
      }
      return `${name} ${scalar(item)}`;
    }).join("\n");
  }
  return `${indent}${scalar(value)}`;
}

function scalarKey(key) {
  return /^[A-Za-z_][\w.-]*$/.test(key) ? key : JSON.stringify(key);
}

function scalar(value) {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "[]";
  if (typeof value === "object") return "{}";
  if (typeof value !== "string") return String(value);
  if (value.includes("\n")) {
    return "|\n" + value.replace(/\n$/, "").split("\n").map((line) => `    ${line}`).join("\n");
  }
  const plain = value !== "" && !/^[\s\-?:,[\]{}#&*!|>'"%@`]/.test(value) && !/: |\s#|\s$/.test(value)
    && !/^(true|false|null|yes|no|on|off|~|[-+]?\d[\d._]*(e[-+]?\d+)?)$/i.test(value);
  return plain ? value : JSON.stringify(value);
}
