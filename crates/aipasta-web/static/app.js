// AI Pasta — behaviour every page shares. Loaded as a module (deferred); no inline script anywhere.
//
// Theme: the server renders <html data-theme> from the `theme` cookie, so the first paint is
// already right. Without JavaScript the theme buttons post a form that sets the cookie; with it,
// they switch instantly and remember the choice in the same cookie.

const THEME_COOKIE = "theme";
const THEMES = ["light", "dark", "system"];
const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60;

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  for (const button of document.querySelectorAll("[data-theme-choice]")) {
    button.setAttribute("aria-pressed", String(button.value === theme));
  }
}

/** The CSRF token the server put in the page, for our fetch calls. */
export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

function rememberTheme(theme) {
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${THEME_COOKIE}=${theme}; Path=/; Max-Age=${ONE_YEAR_SECONDS}; SameSite=Lax${secure}`;
}

function setUpThemeSwitch() {
  const form = document.querySelector("form.theme-switch");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    const theme = event.submitter?.value;
    if (!THEMES.includes(theme)) return;
    event.preventDefault();
    rememberTheme(theme);
    applyTheme(theme);
    // Signed in: keep the choice with the account too, so other browsers follow.
    if (document.querySelector(".account-link")) {
      fetch("/api/users/settings", {
        method: "PUT",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify({ theme }),
      }).catch(() => {});
    }
  });
}

/** Where the header has room for everything (app.css's breakpoint). */
const WIDE = window.matchMedia("(min-width: 901px)");

/**
 * The narrow-screen menu is a <details> and opens without JavaScript; with it, Escape and a click
 * elsewhere close it too, as people expect of a menu. On wide screens the stylesheet already
 * shows a closed menu's content in the bar; it is opened for real there too, so that tools which
 * treat a closed <details>' content as hidden (WebDriver, some assistive tools) see it.
 */
function setUpMenu() {
  const menu = document.querySelector("[data-site-menu]");
  if (!menu) return;
  const button = menu.querySelector("summary");
  const followWidth = () => {
    menu.open = WIDE.matches;
  };
  followWidth();
  WIDE.addEventListener("change", followWidth);
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !menu.open || WIDE.matches) return;
    menu.open = false;
    button.focus();
  });
  document.addEventListener("click", (event) => {
    if (menu.open && !WIDE.matches && !menu.contains(event.target)) menu.open = false;
  });
}

/**
 * Copy buttons: `<button data-copy="element-id" hidden>` copies that element's text. They are
 * rendered hidden and shown here, so a page without script (or without a clipboard) never shows
 * a button that cannot act; the text itself stays selectable on the page.
 */
function setUpCopyButtons() {
  if (!navigator.clipboard) return;
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source) continue;
    const label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(source.textContent);
        button.textContent = "Copied";
      } catch {
        button.textContent = "Copy failed";
      }
      setTimeout(() => {
        button.textContent = label;
      }, 1500);
    });
  }
}

setUpThemeSwitch();
setUpMenu();
setUpCopyButtons();
