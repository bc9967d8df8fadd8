// AI Pasta — the playground. The page works without this script (the form posts and the server
// renders the answer); with it, answers stream in through POST /api/ai/stream, read and parsed
// here as Server-Sent Events. Model output never becomes HTML here: while it streams, the text
// so far is rendered to sanitised HTML by the server (POST /api/playground/render, throttled)
// and the newest text is shown as plain text until the next rendering; the final answer is
// rendered the same way. Embedding posts the form (a vector is not streamed).

const form = document.getElementById("pg-form");
const turns = document.getElementById("pg-turns");
const promptBox = document.getElementById("pg-prompt");
const sendButton = document.getElementById("pg-send");
const stopButton = document.getElementById("pg-stop");
const regenerateButton = document.getElementById("pg-regenerate");
const editButton = document.getElementById("pg-edit");
const status = document.getElementById("pg-status");
const modelName = document.querySelector(".pg-head h1")?.textContent ?? "Model";
// A rendering while streaming at most this often, and less often as the answer grows (each one
// sends the whole text). Slower than the API rate limit's refill (2 a second), so a long answer
// never uses up the account's allowance for the next request.
const RENDER_EVERY_MS = 700;
const RENDER_MS_PER_KB = 25;
const FIRST_RENDER_MS = 150;

/** The running generation: its id, the controller of its fetch, and its answer element. */
let running = null;

/** The CSRF token the server put in the page (app.js reads it the same way). */
const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";
const jsonHeaders = () => ({ "Content-Type": "application/json", "X-CSRF-Token": csrfToken() });
const runningKey = () => `pg-running:${form.dataset.model}`;

function announce(text) {
  if (status) status.textContent = text;
}

// ---------- parameters: sliders beside number inputs, presets ----------

function setUpSliders() {
  for (const slider of document.querySelectorAll("[data-slider-for]")) {
    const input = document.getElementById(slider.dataset.sliderFor);
    if (!input) continue;
    slider.hidden = false;
    slider.addEventListener("input", () => {
      input.value = slider.value;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    input.addEventListener("input", () => {
      if (input.value !== "") slider.value = input.value;
    });
  }
}

function paramInputs() {
  return [...document.querySelectorAll(".pg-value[name]")];
}

/** The parameters that differ from the model's defaults, as the API names them. */
function currentParameters() {
  const parameters = {};
  for (const input of paramInputs()) {
    const value = input.value.trim();
    if (value === "" || value === input.dataset.default) continue;
    if (input.name === "stop") {
      const stops = value.split(",").map((s) => s.trim()).filter(Boolean);
      if (stops.length) parameters.stop = stops;
      continue;
    }
    if (input.type === "text") {
      parameters[input.name] = value;
      continue;
    }
    const number = Number(value);
    if (Number.isFinite(number) && number !== Number(input.dataset.default)) parameters[input.name] = number;
  }
  return parameters;
}

/** What is wrong with a parameter's value, in the server's words; "" when nothing is. */
function problemWith(input) {
  const validity = input.validity;
  if (validity.valid) return "";
  const label = document.querySelector(`label[for="${CSS.escape(input.id)}"]`)?.textContent ?? input.name;
  if (validity.badInput) return `${label} must be a number.`;
  if (validity.rangeUnderflow || validity.rangeOverflow) {
    if (input.min !== "" && input.max !== "") return `${label} must be between ${input.min} and ${input.max}.`;
    return validity.rangeUnderflow ? `${label} must be at least ${input.min}.` : `${label} must be at most ${input.max}.`;
  }
  if (validity.stepMismatch) return `${label} must be a whole number.`;
  if (validity.tooLong) return `${label} takes at most ${input.maxLength} characters.`;
  return input.validationMessage;
}

/** Shows (or clears) the message next to a parameter; answers whether it is fine. */
function checkParameter(input) {
  const message = problemWith(input);
  const box = document.getElementById(`${input.id}-error`);
  if (box) {
    box.textContent = message;
    box.hidden = !message;
  }
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  return !message;
}

/** Checks every parameter before sending; the first refused one is shown and focused. */
function parametersAreValid() {
  let first = null;
  for (const input of paramInputs()) {
    if (!checkParameter(input) && !first) first = input;
  }
  if (!first) return true;
  const closed = first.closest("details:not([open])");
  if (closed) closed.open = true;
  first.focus();
  announce(document.getElementById(`${first.id}-error`)?.textContent ?? "Check the parameters.");
  return false;
}

function applyParameters(parameters) {
  for (const input of paramInputs()) {
    let value = parameters[input.name];
    if (value === undefined) value = input.dataset.default;
    else if (Array.isArray(value)) value = value.join(", ");
    else if (typeof value === "number") {
      if (input.min !== "") value = Math.max(Number(input.min), value);
      if (input.max !== "") value = Math.min(Number(input.max), value);
    }
    input.value = value ?? "";
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }
  updateSnippets();
}

function setUpPresets() {
  const select = document.getElementById("pg-preset");
  if (!select) return;
  const actions = document.querySelector(".pg-preset-actions");
  const rename = document.getElementById("pg-preset-rename");
  const remove = document.getElementById("pg-preset-delete");
  const refreshActions = () => {
    if (!actions) return;
    actions.hidden = false;
    const own = select.value !== "" && !select.value.startsWith("builtin:");
    rename.hidden = !own;
    remove.hidden = !own;
  };
  refreshActions();
  select.addEventListener("change", () => {
    const option = select.selectedOptions[0];
    let parameters = {};
    try {
      parameters = JSON.parse(option?.dataset.parameters || "{}");
    } catch {
      parameters = {};
    }
    applyParameters(parameters);
    const system = document.getElementById("pg-system");
    if (system && option?.dataset.system) system.value = option.dataset.system;
    refreshActions();
  });
  document.getElementById("pg-preset-save")?.addEventListener("click", async () => {
    const name = window.prompt("Name this preset")?.trim();
    if (!name) return;
    const body = { name, parameters: currentParameters() };
    const system = document.getElementById("pg-system")?.value.trim();
    if (system) body.systemPrompt = system;
    const answer = await callJson("POST", "/api/users/presets", body);
    if (!answer) return;
    const option = new Option(answer.name, answer.id, true, true);
    option.dataset.parameters = JSON.stringify(answer.parameters);
    option.dataset.system = answer.systemPrompt ?? "";
    select.append(option);
    refreshActions();
    announce(`Saved preset ${answer.name}.`);
  });
  rename?.addEventListener("click", async () => {
    const option = select.selectedOptions[0];
    const name = window.prompt("New name", option.textContent)?.trim();
    if (!name) return;
    const answer = await callJson("PUT", `/api/users/presets/${encodeURIComponent(option.value)}`, { name });
    if (answer) option.textContent = answer.name;
  });
  remove?.addEventListener("click", async () => {
    const option = select.selectedOptions[0];
    if (!window.confirm(`Delete the preset “${option.textContent}”?`)) return;
    const answer = await callJson("DELETE", `/api/users/presets/${encodeURIComponent(option.value)}`);
    if (answer === null) return;
    option.remove();
    select.value = "";
    refreshActions();
  });
}

/** A JSON call; answers `data` (or `{}`), or null after telling the person what went wrong. */
async function callJson(method, url, body) {
  try {
    const response = await fetch(url, {
      method,
      headers: jsonHeaders(),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      window.alert(answer.error?.message ?? `The request failed (${response.status}).`);
      return null;
    }
    return answer.data ?? {};
  } catch {
    window.alert("The server could not be reached. Check your connection and try again.");
    return null;
  }
}

// ---------- the API code panel ----------

function snake(name) {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The same snippets as `snippets.rs`, for the form as it is now. */
function buildSnippets() {
  const base = location.origin;
  const mode = form.dataset.mode;
  const prompt = promptBox.value.trim() || "Hello!";
  const system = document.getElementById("pg-system")?.value.trim() ?? "";
  const parameters = currentParameters();
  const own = { model: form.dataset.model, mode, prompt };
  if (system) own.systemPrompt = system;
  if (Object.keys(parameters).length) own.parameters = parameters;
  const ownJson = JSON.stringify(own, null, 2);
  const [pyRead, jsRead] = mode === "image" ? ['["data"]["images"]', ".data.images"] : ['["data"]["content"]', ".data.content"];
  const quote = (s) => s.replaceAll("'", "'\\''");
  const all = {
    curl: `curl ${base}/api/ai/generate \\\n  -H "Authorization: Bearer $AIPASTA_API_KEY" \\\n  -H "Content-Type: application/json" \\\n  -d '${quote(ownJson)}'`,
    python: `import os, requests\n\nresponse = requests.post(\n    "${base}/api/ai/generate",\n    headers={"Authorization": f"Bearer {os.environ['AIPASTA_API_KEY']}"},\n    json=${ownJson},\n)\nprint(response.json()${pyRead})`,
    javascript: `const response = await fetch("${base}/api/ai/generate", {\n  method: "POST",\n  headers: {\n    Authorization: \`Bearer \${process.env.AIPASTA_API_KEY}\`,\n    "Content-Type": "application/json",\n  },\n  body: JSON.stringify(${ownJson}),\n});\nconsole.log((await response.json())${jsRead});`,
  };
  let v1;
  if (mode === "image") {
    const body = { model: form.dataset.model, prompt };
    if (parameters.width !== undefined && parameters.height !== undefined) body.size = `${parameters.width}x${parameters.height}`;
    v1 = ["images/generations", body, "images.generate", "data[0].b64_json[:60]", "data[0].b64_json.slice(0, 60)"];
  } else if (mode === "embed") {
    const body = { model: form.dataset.model, input: prompt };
    v1 = ["embeddings", body, "embeddings.create", "data[0].embedding[:8]", "data[0].embedding.slice(0, 8)"];
  } else if (mode !== "summarize" && mode !== "translate") {
    const messages = system ? [{ role: "system", content: system }] : [];
    messages.push({ role: "user", content: prompt });
    const body = { model: form.dataset.model, messages };
    for (const [name, value] of Object.entries(parameters)) body[snake(name)] = value;
    v1 = ["chat/completions", body, "chat.completions.create", "choices[0].message.content", "choices[0].message.content"];
  }
  if (v1) {
    const [path, body, call, pyResult, jsResult] = v1;
    const v1Json = JSON.stringify(body, null, 2);
    all["v1-curl"] = `curl ${base}/v1/${path} \\\n  -H "Authorization: Bearer $AIPASTA_API_KEY" \\\n  -H "Content-Type: application/json" \\\n  -d '${quote(v1Json)}'`;
    all["v1-python"] = `import os\nfrom openai import OpenAI\n\nclient = OpenAI(base_url="${base}/v1", api_key=os.environ["AIPASTA_API_KEY"])\nresult = client.${call}(**${v1Json})\nprint(result.${pyResult})`;
    all["v1-javascript"] = `import OpenAI from "openai";\n\nconst client = new OpenAI({ baseURL: "${base}/v1", apiKey: process.env.AIPASTA_API_KEY });\nconst result = await client.${call}(${v1Json});\nconsole.log(result.${jsResult});`;
  }
  return all;
}

let snippetTimer = 0;
function updateSnippets() {
  clearTimeout(snippetTimer);
  snippetTimer = setTimeout(() => {
    const all = buildSnippets();
    for (const body of document.querySelectorAll("[data-snippet-body]")) {
      const code = body.querySelector("code");
      if (code && all[body.dataset.snippetBody] !== undefined) code.textContent = all[body.dataset.snippetBody];
    }
  }, 150);
}

function setUpCodePanel() {
  const chips = [...document.querySelectorAll("[data-snippet]")];
  const bodies = [...document.querySelectorAll("[data-snippet-body]")];
  const show = (id) => {
    for (const chip of chips) chip.setAttribute("aria-pressed", String(chip.dataset.snippet === id));
    for (const body of bodies) body.hidden = body.dataset.snippetBody !== id;
  };
  for (const chip of chips) {
    chip.hidden = false;
    chip.addEventListener("click", () => show(chip.dataset.snippet));
  }
  for (const body of bodies) body.querySelector("h3")?.classList.add("visually-hidden");
  if (chips[0]) show(chips[0].dataset.snippet);
  for (const body of bodies) addCopyButton(body.querySelector("pre"));
  form.addEventListener("input", updateSnippets);
  form.addEventListener("change", updateSnippets);
  document.querySelector(".pg-params")?.addEventListener("change", updateSnippets);
  updateSnippets();
}

// ---------- code blocks: copy buttons ----------

function addCopyButton(pre) {
  if (!pre || pre.querySelector(".pg-copy")) return;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "pg-copy";
  button.textContent = "Copy";
  button.setAttribute("aria-label", "Copy code");
  button.addEventListener("click", async () => {
    const text = pre.querySelector("code")?.textContent ?? pre.textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select and copy";
    }
    setTimeout(() => (button.textContent = "Copy"), 1500);
  });
  pre.append(button);
}

function decorate(root) {
  for (const pre of root.querySelectorAll("pre")) addCopyButton(pre);
}

// ---------- turns ----------

function makeTurn(role, text) {
  const item = document.createElement("li");
  item.className = `pg-turn pg-turn-${role}`;
  item.dataset.role = role;
  item.dataset.raw = text;
  const who = document.createElement("span");
  who.className = "pg-who";
  who.textContent = role === "user" ? "You" : modelName;
  const body = document.createElement("div");
  body.className = role === "user" ? "pg-md pg-plain" : "pg-md prose";
  body.textContent = text;
  item.append(who, body);
  turns.append(item);
  document.getElementById("pg-empty")?.remove();
  return item;
}

function conversation() {
  return [...turns.querySelectorAll(".pg-turn")]
    .filter((turn) => !turn.querySelector(".pg-error"))
    .map((turn) => ({ role: turn.dataset.role, content: turn.dataset.raw ?? "" }));
}

/**
 * Each button is shown exactly when it can act: Stop while a generation runs; in chat, once
 * nothing runs, Regenerate after an answer (after an error, the error's Retry does it) and
 * "Edit last message" after an answer or an error.
 */
function refreshTurnButtons() {
  const chat = form.dataset.mode === "chat";
  const items = turns.querySelectorAll(".pg-turn");
  const last = items[items.length - 1];
  const idle = running === null && !form.hasAttribute("data-disabled");
  const answered = last?.dataset.role === "assistant";
  const failed = answered && last.querySelector(".pg-error") !== null;
  const asked = answered && last.previousElementSibling?.dataset.role === "user";
  regenerateButton.hidden = !(idle && chat && answered && !failed);
  editButton.hidden = !(idle && chat && asked);
  stopButton.hidden = running === null;
  sendButton.disabled = running !== null || form.hasAttribute("data-disabled");
}

async function renderMarkdown(markdown) {
  const response = await fetch("/api/playground/render", {
    method: "POST",
    headers: jsonHeaders(),
    body: JSON.stringify({ markdown }),
  });
  if (!response.ok) throw Object.assign(new Error("render failed"), { status: response.status });
  return (await response.json()).html;
}

function seconds(ms) {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function usd(nanos) {
  const dollars = (nanos ?? 0) / 1e9;
  if (dollars === 0) return "$0";
  return `$${dollars < 0.01 ? dollars.toPrecision(2) : dollars.toFixed(4).replace(/0+$/, "").replace(/\.$/, "")}`;
}

function statsLine(summary) {
  const usage = summary.usage ?? {};
  const parts = [
    `${usage.promptTokens ?? summary.promptTokens ?? 0} tokens in`,
    `${usage.completionTokens ?? summary.completionTokens ?? 0} out`,
    usd(summary.costNanos),
  ];
  if (summary.timeToFirstToken != null) parts.push(`first token ${seconds(summary.timeToFirstToken)}`);
  if (summary.duration != null) parts.push(`total ${seconds(summary.duration)}`);
  return parts.join(" · ");
}

// ---------- streaming ----------

/** Reads a fetch body of Server-Sent Events, calling `onEvent(name, data)` for each. */
async function readEvents(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replaceAll("\r\n", "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (!data.length) continue;
      let parsed = null;
      try {
        parsed = JSON.parse(data.join("\n"));
      } catch {
        continue;
      }
      onEvent(name, parsed);
    }
  }
}

/**
 * Renders an answer while it streams: the server's rendering of the text so far (`html`), then
 * the text that arrived since as plain text (`tail`). One rendering at a time, throttled; a
 * refused one (rate limit, size) stops the previews and the plain text stays until the end.
 */
function livePreview(body) {
  const html = document.createElement("div");
  html.className = "pg-live-html";
  const tail = document.createElement("span");
  tail.className = "pg-live-tail";
  let text = "";
  let shown = 0;
  let timer = 0;
  let busy = false;
  let stopped = false;
  let last = performance.now() - RENDER_EVERY_MS + FIRST_RENDER_MS;
  const interval = () => RENDER_EVERY_MS + (text.length / 1024) * RENDER_MS_PER_KB;
  const schedule = () => {
    if (timer || busy || stopped || text.length === shown) return;
    timer = setTimeout(renderNow, Math.max(0, last + interval() - performance.now()));
  };
  const renderNow = async () => {
    timer = 0;
    busy = true;
    last = performance.now();
    const snapshot = text;
    try {
      const rendered = await renderMarkdown(snapshot);
      if (stopped) return;
      html.innerHTML = rendered;
      shown = snapshot.length;
      tail.textContent = text.slice(shown);
    } catch (error) {
      if (error.status) stopped = true;
    } finally {
      busy = false;
      schedule();
    }
  };
  return {
    add(piece) {
      if (!text) body.replaceChildren(html, tail);
      text += piece;
      tail.append(document.createTextNode(piece));
      // Many small text nodes are merged now and then.
      if (tail.childNodes.length > 256) tail.textContent = text.slice(shown);
      schedule();
    },
    end() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** Follows one generation's stream into `answer`; `retry` resends the same request. */
async function follow(response, answer, retry) {
  const body = answer.querySelector(".pg-md");
  const typing = document.createElement("span");
  typing.className = "pg-typing";
  typing.setAttribute("aria-label", "The model is thinking");
  typing.append(document.createElement("span"), document.createElement("span"), document.createElement("span"));
  body.replaceChildren(typing);
  const preview = livePreview(body);
  let text = "";
  let ended = false;
  const end = (summary, error) => {
    ended = true;
    preview.end();
    finish(answer, text, summary, error, retry);
  };
  const onEvent = (name, data) => {
    if (name === "start") {
      running.id = data.id;
      answer.dataset.generation = data.id;
      sessionStorage.setItem(runningKey(), JSON.stringify({ id: data.id, prompt: running.prompt ?? "" }));
    } else if (name === "delta") {
      const piece = data.content ?? "";
      if (!piece) return;
      text += piece;
      answer.dataset.raw = text;
      preview.add(piece);
    } else if (name === "done") {
      end(data, null);
    } else if (name === "error") {
      end(data.generation ?? {}, data.message ?? "The generation failed.");
    }
  };
  try {
    await readEvents(response, onEvent);
  } catch {
    // A cut connection is reported below.
  }
  if (!ended) end({}, "The connection was cut before the answer finished.");
}

async function finish(answer, text, summary, error, retry) {
  sessionStorage.removeItem(runningKey());
  const body = answer.querySelector(".pg-md");
  answer.dataset.raw = text;
  answer.querySelector(".pg-typing")?.remove();
  running = null;
  refreshTurnButtons();
  try {
    body.innerHTML = text ? await renderMarkdown(text) : "";
  } catch {
    body.textContent = text;
  }
  decorate(body);
  for (const [index, src] of (summary.images ?? []).entries()) {
    const figure = document.createElement("figure");
    figure.className = "pg-image";
    const image = document.createElement("img");
    image.src = src;
    image.alt = `Generated image ${index + 1}`;
    const caption = document.createElement("figcaption");
    const link = document.createElement("a");
    link.href = src;
    link.download = "";
    link.textContent = `Download image ${index + 1}`;
    caption.append(link);
    figure.append(image, caption);
    answer.append(figure);
  }
  const stopped = summary.status === "cancelled";
  if (error) {
    const box = document.createElement("div");
    box.className = "pg-error";
    box.setAttribute("role", "alert");
    const message = document.createElement("p");
    message.textContent = text ? `${error} What arrived before is kept above.` : error;
    const again = document.createElement("button");
    again.type = "button";
    again.className = "button";
    again.textContent = "Retry";
    again.addEventListener("click", () => {
      answer.remove();
      retry();
    });
    box.append(message, again);
    answer.append(box);
    announce(error);
  } else {
    announce(stopped ? "Stopped." : "The answer is complete.");
  }
  if (summary.usage || summary.costNanos != null) {
    const line = document.createElement("p");
    line.className = "pg-stats mono small";
    line.textContent = (stopped ? "Stopped · " : "") + statsLine(summary);
    answer.append(line);
  } else if (stopped) {
    const line = document.createElement("p");
    line.className = "pg-stats mono small";
    line.textContent = "Stopped";
    answer.append(line);
  }
  refreshTurnButtons();
}

/** Starts a generation of `request` and streams it into a new answer turn. */
async function start(request) {
  const answer = makeTurn("assistant", "");
  const prompt = request.prompt ?? request.messages?.[request.messages.length - 1]?.content ?? "";
  running = { id: null, controller: new AbortController(), prompt };
  refreshTurnButtons();
  announce("Sending…");
  const retry = () => start(request);
  let response;
  try {
    response = await fetch("/api/ai/stream", {
      method: "POST",
      headers: jsonHeaders(),
      body: JSON.stringify(request),
      signal: running.controller.signal,
    });
  } catch {
    finish(answer, "", {}, "The server could not be reached. Check your connection and try again.", retry);
    return;
  }
  if (!response.ok) {
    const failure = await response.json().catch(() => ({}));
    finish(answer, "", {}, failure.error?.message ?? `The request failed (${response.status}).`, retry);
    return;
  }
  await follow(response, answer, retry);
}

function buildRequest(prompt) {
  const mode = form.dataset.mode;
  const request = { model: form.dataset.model, mode, parameters: currentParameters() };
  const system = document.getElementById("pg-system")?.value.trim();
  if (system) request.systemPrompt = system;
  if (mode === "chat") {
    request.messages = conversation();
    request.sessionId = form.dataset.session;
  } else {
    request.prompt = prompt;
  }
  return request;
}

function send() {
  if (running || form.hasAttribute("data-disabled")) return;
  const prompt = promptBox.value;
  if (!prompt.trim()) {
    promptBox.focus();
    announce("Write a prompt first.");
    return;
  }
  if (!parametersAreValid()) return;
  if (form.hasAttribute("data-whole")) {
    // Answered whole and shown by the server: the form posts (see the submit handler).
    announce("Sending…");
    form.submit();
    return;
  }
  if (form.dataset.mode !== "chat") turns.textContent = "";
  // A failed last turn is dropped before sending again.
  for (const failed of turns.querySelectorAll(".pg-turn .pg-error")) {
    const turn = failed.closest(".pg-turn");
    if (turn.previousElementSibling?.dataset.role === "user") turn.previousElementSibling.remove();
    turn.remove();
  }
  makeTurn("user", prompt);
  if (form.dataset.mode === "chat") {
    promptBox.value = "";
    // A reload (or a shared link) reopens this conversation.
    const url = `${location.pathname}?mode=chat&session=${encodeURIComponent(form.dataset.session)}`;
    window.history.replaceState(null, "", url);
  }
  start(buildRequest(prompt));
  // Ready for the next message (or to change this one) while the answer streams.
  promptBox.focus();
}

async function stop() {
  if (!running) return;
  announce("Stopping…");
  if (running.id) {
    await fetch(`/api/generations/${encodeURIComponent(running.id)}/cancel`, {
      method: "POST",
      headers: jsonHeaders(),
    }).catch(() => {});
  } else {
    running.controller.abort();
  }
}

function lastTurn(role) {
  const items = [...turns.querySelectorAll(".pg-turn")];
  const last = items[items.length - 1];
  return last?.dataset.role === role ? last : null;
}

function regenerate() {
  if (running) return;
  lastTurn("assistant")?.remove();
  if (!lastTurn("user")) return;
  start(buildRequest(""));
}

function editLast() {
  if (running) return;
  lastTurn("assistant")?.remove();
  const user = lastTurn("user");
  if (!user) return;
  promptBox.value = user.dataset.raw ?? "";
  user.remove();
  refreshTurnButtons();
  promptBox.focus();
}

/** After a reload mid-answer: follow the generation that was running. */
async function reattach() {
  const saved = sessionStorage.getItem(runningKey());
  if (!saved) return;
  let id;
  let prompt;
  try {
    ({ id, prompt } = JSON.parse(saved));
  } catch {
    sessionStorage.removeItem(runningKey());
    return;
  }
  const existing = turns.querySelector(`[data-generation="${CSS.escape(id)}"]`);
  if (existing) {
    sessionStorage.removeItem(runningKey());
    return;
  }
  running = { id, controller: new AbortController(), prompt };
  const last = lastTurn("user");
  if (form.dataset.mode !== "chat") turns.textContent = "";
  if (prompt && !(form.dataset.mode === "chat" && last?.dataset.raw === prompt)) makeTurn("user", prompt);
  const answer = makeTurn("assistant", "");
  answer.dataset.generation = id;
  refreshTurnButtons();
  announce("Reconnecting to the answer in progress…");
  try {
    const response = await fetch(`/api/generations/${encodeURIComponent(id)}/stream`, {
      signal: running.controller.signal,
    });
    if (!response.ok) throw new Error("gone");
    await follow(response, answer, () => {});
  } catch {
    sessionStorage.removeItem(runningKey());
    answer.remove();
    running = null;
    refreshTurnButtons();
  }
}

/** The model picker: search as you type, replacing the list with the server's results. */
function setUpPicker() {
  const search = document.getElementById("pg-search");
  const list = document.getElementById("pg-models");
  if (!search || !list) return;
  let timer = 0;
  let latest = 0;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const asked = ++latest;
      const query = search.value.trim();
      const url = query ? `/playground?q=${encodeURIComponent(query)}` : "/playground";
      try {
        const response = await fetch(url, { headers: { Accept: "text/html" } });
        if (!response.ok || asked !== latest) return;
        const page = new DOMParser().parseFromString(await response.text(), "text/html");
        const fresh = page.getElementById("pg-models");
        if (!fresh || asked !== latest) return;
        list.replaceChildren(...[...fresh.children].map((item) => document.importNode(item, true)));
        const summary = page.getElementById("pg-summary");
        if (summary) document.getElementById("pg-summary").textContent = summary.textContent;
        window.history.replaceState(null, "", url);
      } catch {
        // The form still works: Enter submits it.
      }
    }, 200);
  });
}

function setUp() {
  setUpPicker();
  if (!form) return;
  setUpSliders();
  setUpPresets();
  setUpCodePanel();
  decorate(turns);
  // The script checks the parameters itself, with its message next to the field (the browser's
  // own check cannot show one inside a closed "Advanced" section).
  form.noValidate = true;
  for (const input of paramInputs()) input.addEventListener("change", () => checkParameter(input));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  // The server's Retry buttons (no-JS answers) resend the prompt too.
  for (const retry of turns.querySelectorAll(".pg-error button")) {
    retry.type = "button";
    retry.addEventListener("click", () => {
      retry.closest(".pg-turn")?.remove();
      send();
    });
  }
  stopButton.addEventListener("click", stop);
  regenerateButton.addEventListener("click", regenerate);
  editButton.addEventListener("click", editLast);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && running) {
      event.preventDefault();
      stop();
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      if (form.contains(document.activeElement) || document.activeElement === document.body) {
        event.preventDefault();
        send();
      }
    }
  });
  refreshTurnButtons();
  reattach();
}

setUp();
