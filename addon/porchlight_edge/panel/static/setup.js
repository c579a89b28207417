// Camera set-up: a camera's source (RTSP or MJPEG URL, user, password) with a "test"
// button that shows the camera's first picture, or why there is none.
//
// The add-on never sends a password to the page: a camera shows its URL without
// credentials, its user name and "password set". Leaving the password empty keeps the
// stored one (the add-on allows that only for the same host and port). "Save" keeps a
// configured camera's new source in the add-on's settings store and reopens the camera;
// on the "Add a camera" form it adds the camera (started at once, kept across restarts).
// "Remove" (after a confirmation) stops a camera; its clips stay.

import { el, ensureStyles } from "./view_util.js";

const REASONS = {
  wrong_password: "Wrong user name or password",
  no_video: "No video track at this URL",
  unreachable: "Camera unreachable",
  unsupported_codec: "Unsupported video codec",
  not_found: "No stream at this path",
  timeout: "The camera did not answer in time",
  failed: "The camera could not be opened",
};
const KINDS = { rtsp: "RTSP (rtsp://, rtsps://)", mjpeg: "MJPEG or JPEG (http://, https://)" };

let forms = 0;

/** Move `user:password@` typed into the URL into their own fields (never sent in the URL). */
function splitCredentials(form) {
  // `form`: a SourceForm (its url, username and password inputs).
  const text = form.url.value.trim();
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@(.*)$/i.exec(text);
  if (!match) return;
  const [user, ...rest] = match[2].split(":");
  form.url.value = match[1] + match[3];
  form.username.value = decodeURIComponent(user);
  if (rest.length) form.password.value = decodeURIComponent(rest.join(":"));
}

class SourceForm {
  /** `source`: a CameraSourceView (an existing camera) or null (a new one); `list`: the
   * set-up view's callbacks `added(source)` and `removed(form)`. */
  constructor(api, source, list) {
    this.api = api;
    this.source = source;
    this.list = list;
    const id = `setup-${++forms}`;
    const field = (name, label, input) => {
      input.id = `${id}-${name}`;
      input.name = name;
      return [el("label", { htmlFor: input.id }, label), input];
    };
    this.name = el("input", { type: "text", autocomplete: "off", spellcheck: false, pattern: "[a-z0-9_]{1,32}", maxLength: 32 });
    this.kind = el("select", {}, ...Object.entries(KINDS).map(([v, t]) => el("option", { value: v }, t)));
    this.url = el("input", { type: "text", inputMode: "url", autocomplete: "off", spellcheck: false, required: true });
    this.username = el("input", { type: "text", autocomplete: "off", spellcheck: false });
    this.password = el("input", { type: "password", autocomplete: "new-password" });
    this.transport = el("select", {}, el("option", { value: "tcp" }, "TCP"), el("option", { value: "udp" }, "UDP"));
    this.test = el("button", { type: "submit", className: "primary test" }, "Test");
    this.save = el("button", { type: "button", className: "save" }, source ? "Save" : "Add camera");
    this.save.addEventListener("click", () => (this.source ? this.store() : this.add()));
    this.remove = el("button", { type: "button", className: "remove" }, "Remove camera");
    this.remove.addEventListener("click", () => this.drop());
    this.reason = el("p", { className: "reason", role: "status", ariaLive: "polite" });
    this.message = el("p", { className: "status message" });
    this.picture = el("img", { alt: "The camera's first picture", hidden: true, className: "frame" });
    this.result = el("div", { className: "result" }, this.reason, this.message, this.picture);
    this.form = el(
      "form",
      { className: "source", id, noValidate: true },
      ...(source ? [] : field("name", "Name (a-z, 0-9, _)", this.name)),
      ...field("source", "Kind", this.kind),
      ...field("url", "URL", this.url),
      ...field("username", "User name", this.username),
      ...field("password", "Password", this.password),
      ...field("rtsp_transport", "RTSP transport", this.transport),
      el("div", { className: "row" }, this.test, this.save),
      this.result,
    );
    this.url.addEventListener("change", () => splitCredentials(this));
    this.form.addEventListener("submit", (submit) => {
      submit.preventDefault();
      this.run();
    });
    const title = source ? `Camera ${source.name}` : "Add a camera";
    this.root = el("section", { className: "card setup", id: source ? `setup-camera-${source.name}` : "setup-new" }, el("h2", {}, title));
    if (source && !(source.source in KINDS)) {
      this.root.append(el("p", { className: "status" }, `Source: ${source.source} (set in the add-on options)`));
    } else {
      if (source) this.fill(source);
      else this.root.append(el("p", { className: "hint" }, "Name the camera, test its URL, then add it: it starts at once."));
      this.root.append(this.form);
    }
    if (source) this.root.append(el("div", { className: "row" }, this.remove));
  }

  fill(source) {
    this.source = source;
    this.kind.value = source.source;
    this.url.value = source.url ?? "";
    this.username.value = source.username ?? "";
    this.transport.value = source.rtsp_transport ?? "tcp";
    this.password.value = "";
    this.password.placeholder = source.password_set ? "•••••• (unchanged)" : "";
  }

  args() {
    splitCredentials(this);
    const args = { source: this.kind.value, url: this.url.value.trim() };
    if (this.username.value) args.username = this.username.value;
    if (this.password.value) args.password = this.password.value;
    if (this.kind.value === "rtsp") args.rtsp_transport = this.transport.value;
    if (this.source) args.camera = this.source.name;
    return args;
  }

  /** Add this new camera: the add-on checks, keeps and starts it. */
  async add() {
    const args = this.args();
    args.camera = this.name.value.trim();
    if (!args.camera) return this.show(false, "Name the camera.", "");
    if (!args.url) return this.show(false, "Enter the camera's URL.", "");
    this.save.disabled = true;
    try {
      const source = await this.api.command("add_camera", args);
      this.form.reset();
      this.show(true, `Added ${source.name}: it starts now.`, "");
      this.list.added(source);
    } catch (err) {
      this.show(false, "Not added", err.message);
    } finally {
      this.save.disabled = false;
    }
  }

  /** Remove this camera once the user confirms: it stops; its clips stay. */
  async drop() {
    const name = this.source.name;
    if (!window.confirm(`Remove the camera ${name}? It stops now; its clips are kept.`)) return;
    this.remove.disabled = true;
    try {
      await this.api.command("remove_camera", { camera: name });
      this.list.removed(this);
    } catch (err) {
      this.remove.disabled = false;
      this.root.append(el("p", { className: "error", role: "alert" }, `Not removed: ${err.message}`));
    }
  }

  /** Save the source of this (configured) camera: it reopens with it at once. */
  async store() {
    const args = this.args();
    if (!args.url) return this.show(false, "Enter the camera's URL.", "");
    this.save.disabled = true;
    try {
      this.fill(await this.api.command("save_camera_source", args));
      this.show(true, "Saved: the camera reopens with this source.", "");
    } catch (err) {
      this.show(false, "Not saved", err.message);
    } finally {
      this.save.disabled = false;
    }
  }

  async run() {
    const args = this.args();
    if (!args.url) return this.show(false, "Enter the camera's URL.", "");
    this.test.disabled = true;
    this.show(null, "Testing…", "");
    try {
      const result = await this.api.command("test_camera", args);
      if (result.ok) {
        this.show(true, `Picture received: ${result.codec}, ${result.width}×${result.height}`, result.url);
        this.picture.src = `data:image/jpeg;base64,${result.jpeg}`;
        this.picture.hidden = false;
      } else {
        this.show(false, REASONS[result.reason] ?? result.reason, result.message);
      }
    } catch (err) {
      this.show(false, err.message, "");
    } finally {
      this.test.disabled = false;
    }
  }

  show(ok, reason, message) {
    this.result.className = `result ${ok === true ? "good" : ok === false ? "bad" : ""}`;
    this.result.dataset.ok = ok === null ? "" : String(ok);
    this.reason.textContent = reason;
    this.message.textContent = message;
    this.picture.hidden = true;
    this.picture.removeAttribute("src");
  }
}

export async function mount(root, api) {
  ensureStyles();
  const error = el("p", { className: "error", role: "alert" });
  root.append(error);
  const list = {
    added: (source) => adding.root.before(new SourceForm(api, source, list).root),
    removed: (form) => form.root.remove(),
  };
  const adding = new SourceForm(api, null, list);
  try {
    const { cameras } = await api.command("get_camera_sources");
    for (const source of cameras) root.append(new SourceForm(api, source, list).root);
  } catch (err) {
    error.textContent = `Cannot load the cameras: ${err.message}`;
  }
  root.append(adding.root);
}
