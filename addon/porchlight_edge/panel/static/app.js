// The panel's shell: sign-in when needed, the tabs and the view modules.
//
// Each view is an ES module exporting `mount(root, api)`; it may return a function that
// unmounts it (closes streams, drops listeners) when another tab is chosen.

import { Api, AuthError } from "./api.js";

const VIEWS = [
  { id: "cameras", title: "Cameras", module: "./cameras.js" },
  { id: "timeline", title: "Timeline", module: "./timeline.js" },
  { id: "setup", title: "Set-up", module: "./setup.js" },
];

const api = new Api();
const tabs = document.getElementById("tabs");
const view = document.getElementById("view");
const login = document.getElementById("login");
const connection = document.getElementById("connection");
const signOut = document.getElementById("sign-out");
let unmount = null;
let shown = null;

api.onStatus((text) => {
  connection.textContent = text;
});

function currentView() {
  const id = location.hash.slice(1);
  return VIEWS.find((v) => v.id === id) ?? VIEWS[0];
}

function renderTabs(active) {
  tabs.replaceChildren(
    ...VIEWS.map((v) => {
      const button = document.createElement("button");
      button.type = "button";
      button.setAttribute("role", "tab");
      button.id = `tab-${v.id}`;
      button.textContent = v.title;
      button.setAttribute("aria-selected", String(v.id === active.id));
      button.addEventListener("click", () => {
        location.hash = v.id;
      });
      return button;
    }),
  );
}

async function show() {
  const next = currentView();
  if (shown === next.id) return;
  shown = next.id;
  renderTabs(next);
  if (unmount) unmount();
  unmount = null;
  view.replaceChildren();
  view.dataset.view = next.id;
  const module = await import(next.module);
  if (shown !== next.id) return; // another tab was chosen meanwhile
  unmount = (await module.mount(view, api)) ?? null;
}

async function start() {
  try {
    await api.connect();
  } catch (err) {
    if (err instanceof AuthError) return askForToken();
    connection.textContent = err.message;
    return;
  }
  login.hidden = true;
  signOut.hidden = !api.token; // through ingress, Home Assistant signs the user out
  // Standalone with a kept token: the cookie session for pictures may have ended (restart).
  if (api.token) await api.signIn(api.token).catch(() => {});
  window.addEventListener("hashchange", show);
  await show();
}

signOut.addEventListener("click", async () => {
  window.removeEventListener("hashchange", show);
  if (unmount) unmount(); // closes the views' streams before the session ends
  unmount = null;
  shown = null;
  view.replaceChildren();
  tabs.replaceChildren();
  signOut.hidden = true;
  try {
    await api.signOut();
  } catch (err) {
    document.getElementById("login-error").textContent = err.message;
  }
  askForToken();
});

function askForToken() {
  connection.textContent = "signed out";
  signOut.hidden = true;
  login.hidden = false;
  login.querySelector("input").focus();
  login.onsubmit = async (submit) => {
    submit.preventDefault();
    const field = login.querySelector("input");
    const error = document.getElementById("login-error");
    error.textContent = "";
    try {
      await api.signIn(field.value.trim());
      field.value = "";
      await start();
    } catch (err) {
      error.textContent = err.message;
    }
  };
}

start();
