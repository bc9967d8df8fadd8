// The model catalog: filters update the grid without a full reload, and "Load more" appends
// the next page. Without JavaScript the same form and links work as plain navigation; this
// script only fetches the server-rendered results part (header X-Fragment) and swaps it in.

const form = document.querySelector("[data-catalog-filters]");
const results = document.querySelector("[data-results]");
const FRAGMENT = { "X-Fragment": "results" };
const TYPING_DELAY_MS = 220;

function formUrl() {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(form)) {
    if (String(value).trim() !== "") params.append(key, value);
  }
  const query = params.toString();
  return form.getAttribute("action") + (query ? `?${query}` : "");
}

let inFlight = null;

/** The address without its fragment: what the results on the page were fetched for. */
function pageUrl() {
  return location.pathname + location.search;
}
let shownUrl = pageUrl();

async function fetchResults(url) {
  inFlight?.abort();
  inFlight = new AbortController();
  results.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(url, { headers: FRAGMENT, signal: inFlight.signal });
    return { ok: response.ok, html: await response.text() };
  } finally {
    results.removeAttribute("aria-busy");
  }
}

function showError(message) {
  let box = document.querySelector(".form-error");
  if (!box) {
    box = document.createElement("p");
    box.className = "form-error";
    box.setAttribute("role", "alert");
    results.before(box);
  }
  box.textContent = message;
}

function clearError() {
  document.querySelector(".form-error")?.remove();
}

async function refresh({ push }) {
  const url = formUrl();
  try {
    const { ok, html } = await fetchResults(url);
    if (!ok) {
      showError("Those filters could not be applied. Check the highlighted values and try again.");
      return;
    }
    clearError();
    results.innerHTML = html;
    if (push) history.pushState({}, "", url);
    else history.replaceState({}, "", url);
    shownUrl = pageUrl();
  } catch (error) {
    if (error.name !== "AbortError") showError("The models could not be loaded. Check your connection and try again.");
  }
}

async function loadMore(link) {
  link.setAttribute("aria-busy", "true");
  link.textContent = "Loading…";
  try {
    const { ok, html } = await fetchResults(link.href);
    if (!ok) throw new Error("status");
    const next = document.createElement("div");
    next.innerHTML = html;
    const grid = results.querySelector("[data-model-grid]");
    const newCards = next.querySelectorAll("[data-model-grid] > *");
    const firstNew = newCards[0];
    grid.append(...newCards);
    results.querySelector("[data-pagination]").replaceWith(next.querySelector("[data-pagination]"));
    results.querySelector(".results-summary").replaceWith(next.querySelector(".results-summary"));
    history.replaceState({}, "", link.href);
    shownUrl = pageUrl();
    firstNew?.querySelector("a")?.focus({ preventScroll: true });
  } catch {
    link.removeAttribute("aria-busy");
    link.textContent = "Load more";
    showError("More models could not be loaded. Try again.");
  }
}

if (form && results) {
  let typingTimer = 0;
  form.addEventListener("input", (event) => {
    const isText = event.target.matches("input[type=search], input[type=number]");
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => refresh({ push: false }), isText ? TYPING_DELAY_MS : 0);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    refresh({ push: true });
  });
  results.addEventListener("click", (event) => {
    const link = event.target.closest("[data-load-more]");
    if (!link) return;
    event.preventDefault();
    loadMore(link);
  });
  // Back and forward between filters load their results. A fragment link (the skip link) also
  // fires popstate, but leaves the filters as they are: nothing to reload then.
  window.addEventListener("popstate", () => {
    if (pageUrl() !== shownUrl) location.reload();
  });
}
