// Talking to the Corral API: the token (kept in sessionStorage, so it leaves with the tab),
// JSON calls, and server-sent events read through fetch (EventSource cannot send a token).

const KEY = "corral.token";

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, message, problems) {
    super(message);
    this.status = status;
    this.problems = problems || [];
  }
}

function detailOf(data, status) {
  if (!data) return `the server answered ${status}`;
  if (typeof data.detail === "string") return data.detail;
  if (Array.isArray(data.detail)) {
    return data.detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
  }
  return `the server answered ${status}`;
}

export async function call(method, path, body, { auth = token.get() } = {}) {
  const headers = {};
  if (auth) headers.Authorization = `Bearer ${auth}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (response.status === 401 && auth === token.get()) {
    token.clear();
    if (!location.hash.startsWith("#/signin")) location.hash = "#/signin";
  }
  if (!response.ok) throw new ApiError(response.status, detailOf(data, response.status), data && data.problems);
  return data;
}

export const get = (path, options) => call("GET", path, undefined, options);
export const post = (path, body) => call("POST", path, body === undefined ? {} : body);

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// Reads `path` as text/event-stream and calls onEvent(kind, data) per event until the
// stream ends or `signal` aborts it.
export async function stream(path, onEvent, signal) {
  const response = await fetch(`/api/v1${path}`, {
    headers: { Authorization: `Bearer ${token.get()}`, Accept: "text/event-stream" },
    signal,
  });
  if (!response.ok || !response.body) throw new ApiError(response.status, `log stream answered ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let kind = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) kind = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length) {
        try {
          onEvent(kind, JSON.parse(data.join("\n")));
        } catch {
          onEvent(kind, data.join("\n"));
        }
      }
    }
  }
}
