// Cameras: per camera the live picture, its status and the privacy-mode switch, and the
// mask and zone editor (editor.js) on the live picture.

import { url } from "./api.js";

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function statusText(cam) {
  if (cam.privacy_mode) return "privacy mode: the camera is off";
  const parts = [cam.status];
  if (cam.status_reason) parts.push(`(${cam.status_reason})`);
  if (cam.fps) parts.push(`· ${cam.fps} fps`);
  if (cam.width) parts.push(`· ${cam.width}×${cam.height}`);
  if (cam.motion) parts.push("· motion");
  return parts.join(" ");
}

class CameraCard {
  constructor(api, cam) {
    this.api = api;
    this.name = cam.name;
    this.picture = el("img", {
      alt: `Live picture of ${cam.title}`,
      className: "live",
      draggable: false,
    });
    this.stage = el("div", { className: "stage" }, this.picture);
    this.status = el("span", { className: "status" });
    this.privacy = el("input", { type: "checkbox", id: `privacy-${cam.name}` });
    this.privacy.addEventListener("change", () => this.setPrivacy(this.privacy.checked));
    this.error = el("span", { className: "error", role: "alert" });
    this.root = el(
      "section",
      { className: "card camera", id: `camera-${cam.name}` },
      el("h2", {}, cam.title),
      el(
        "div",
        { className: "row" },
        this.status,
        el("label", { htmlFor: this.privacy.id }, this.privacy, " Privacy mode"),
        this.error,
      ),
      this.stage,
    );
    this.update(cam);
  }

  update(cam) {
    this.state = cam;
    this.status.textContent = statusText(cam);
    this.status.className = `status ${cam.privacy_mode ? "offline" : cam.status}`;
    this.privacy.checked = cam.privacy_mode;
    this.refreshLive();
    this.onUpdate?.(cam);
  }

  // The stream runs only while the picture is on screen and the tab is shown: a phone
  // with several cameras does not download pictures nobody sees.
  refreshLive() {
    this.live(!this.state.privacy_mode && this.visible !== false && !document.hidden);
  }

  live(on) {
    const src = url(`/api/cameras/${this.name}/stream.mjpeg`);
    if (on && this.picture.dataset.src !== src) {
      this.picture.dataset.src = src;
      this.picture.src = src;
    } else if (!on && this.picture.dataset.src) {
      delete this.picture.dataset.src;
      this.picture.removeAttribute("src"); // ends the stream
    }
  }

  async setPrivacy(enabled) {
    this.error.textContent = "";
    try {
      await this.api.command("set_privacy_mode", { camera: this.name, enabled });
    } catch (err) {
      this.error.textContent = err.message;
      this.privacy.checked = !enabled;
    }
  }

  close() {
    this.live(false);
  }
}

export async function mount(root, api) {
  const cards = new Map();
  const seen = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const card = cards.get(entry.target.dataset.camera);
      if (!card) continue;
      card.visible = entry.isIntersecting;
      card.refreshLive();
    }
  });
  const onVisibility = () => {
    for (const card of cards.values()) card.refreshLive();
  };
  document.addEventListener("visibilitychange", onVisibility);
  const refresh = async () => {
    const state = await api.command("get_state");
    const names = new Set(state.cameras.map((cam) => cam.name));
    for (const [name, card] of cards) {
      if (names.has(name)) continue; // else removed in Set-up
      card.close();
      card.root.remove();
      cards.delete(name);
    }
    for (const cam of state.cameras) {
      let card = cards.get(cam.name);
      if (!card) {
        card = new CameraCard(api, cam);
        cards.set(cam.name, card);
        root.append(card.root);
        card.stage.dataset.camera = cam.name;
        seen.observe(card.stage);
        const { attachEditor } = await import("./editor.js").catch(() => ({}));
        attachEditor?.(card, api);
      } else {
        card.update(cam);
      }
    }
  };
  const offs = [
    api.on("camera_state", (event) => cards.get(event.camera)?.update(event.data)),
    api.on("camera_status", () => refresh()),
    api.on("cameras_changed", () => refresh()),
    api.on("occupancy", (event) => cards.get(event.camera)?.onOccupancy?.(event.data)),
    // Back after a lost connection: what changed meanwhile is read afresh.
    api.onStatus((status) => status === "connected" && refresh().catch(() => {})),
  ];
  await refresh();
  return () => {
    seen.disconnect();
    document.removeEventListener("visibilitychange", onVisibility);
    for (const off of offs) off();
    for (const card of cards.values()) card.close();
  };
}
