// Small helpers shared by the timeline and set-up views.

/** A new element with `props` set as properties and `children` appended. */
export function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** Load views.css once (an inline style would break the page's CSP). */
export function ensureStyles() {
  if (document.getElementById("views-css")) return;
  document.head.append(el("link", { id: "views-css", rel: "stylesheet", href: "views.css" }));
}
