// Plain SVG for the pictures (graph, timeline, traffic, charts): elements, status tones with an
// icon each (a state is never told by colour alone), and text that fits a width.

import { TONES } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";

export function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "dataset") for (const [k, v] of Object.entries(value)) node.dataset[k] = v;
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const ICONS = { ok: "✓", bad: "✗", run: "▶", wait: "‖", idle: "○", muted: "⊘" };

export function tone(status) {
  return (status && TONES[status]) || "idle";
}

// An SVG title (the tooltip) and the accessible name of a focusable shape.
export function titled(attrs, label) {
  return { ...attrs, "aria-label": label };
}

export function fit(text, chars) {
  const value = String(text ?? "");
  return value.length > chars ? `${value.slice(0, Math.max(1, chars - 1))}…` : value;
}

export function svgRoot(width, height, label) {
  return s("svg", {
    width, height, viewBox: `0 0 ${width} ${height}`, role: "group", "aria-label": label,
    class: "pic-svg", xmlns: NS,
  });
}

// Keep keyboard focus on the same shape (by data-key) across a redraw.
export function redraw(container, draw) {
  const focused = container.contains(document.activeElement) ? document.activeElement.dataset?.key : null;
  draw();
  if (focused) {
    const again = [...container.querySelectorAll("[data-key]")].find((n) => n.dataset.key === focused);
    if (again) again.focus();
  }
}
