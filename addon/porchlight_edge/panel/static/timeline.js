// Timeline: one day of rings, motion and manual recordings, newest first, with thumbnails.
// A clip plays in an HTML5 video (the clip endpoint answers Range requests, so it seeks;
// a clip still recording plays what is recorded so far); protect, delete and export are
// the same audited commands Home Assistant uses.

import { url } from "./api.js";
import { el, ensureStyles } from "./view_util.js";

const DAY_MS = 86400000;
const PAGE = 200; // the protocol's largest page
const CONFIRM_MS = 4000;
const KIND_ORDER = ["ring", "motion", "manual"];
const KIND_TITLES = { ring: "Ring", motion: "Motion", manual: "Manual" };

function dayStart(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate());
}

function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

function duration(seconds) {
  if (seconds == null) return "";
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** The clip's main kind: a ring beats motion beats manual. */
function kindOf(events) {
  const kinds = new Set(events.map((e) => e.kind));
  return KIND_ORDER.find((k) => kinds.has(k)) ?? "manual";
}

/** When a clip's story happened: its newest event (a clip's start includes the pre-roll). */
function clipTime(clip) {
  return clip.events.length ? Math.max(...clip.events.map((e) => e.time)) : clip.start;
}

/** All pages of `command` for the day (bounded: at most 10 pages). */
async function listAll(api, command, key, args) {
  const items = [];
  let offset = 0;
  for (let page = 0; page < 10 && offset != null; page++) {
    const result = await api.command(command, { ...args, limit: PAGE, offset });
    items.push(...result[key]);
    offset = result.next_offset;
  }
  return items;
}

class Timeline {
  constructor(root, api) {
    this.api = api;
    this.day = dayStart(new Date());
    this.camera = "";
    this.kind = "";
    this.dayInput = el("input", { type: "date", id: "timeline-day" });
    this.dayInput.addEventListener("change", () => {
      if (this.dayInput.value) this.show(new Date(`${this.dayInput.value}T00:00`));
    });
    this.cameraSelect = el("select", { id: "timeline-camera" }, el("option", { value: "" }, "All cameras"));
    this.cameraSelect.addEventListener("change", () => {
      this.camera = this.cameraSelect.value;
      this.load();
    });
    this.kindSelect = el(
      "select",
      { id: "timeline-kind" },
      el("option", { value: "" }, "Everything"),
      ...KIND_ORDER.map((k) => el("option", { value: k }, KIND_TITLES[k])),
    );
    this.kindSelect.addEventListener("change", () => {
      this.kind = this.kindSelect.value;
      this.render();
    });
    const previous = el("button", { type: "button", ariaLabel: "Previous day" }, "◀");
    previous.addEventListener("click", () => this.show(new Date(this.day.getTime() - DAY_MS / 2)));
    const next = el("button", { type: "button", ariaLabel: "Next day" }, "▶");
    next.addEventListener("click", () => this.show(new Date(this.day.getTime() + DAY_MS * 1.5)));
    this.status = el("p", { className: "status", role: "status", ariaLive: "polite" });
    this.error = el("p", { className: "error", role: "alert" });
    this.list = el("ul", { className: "timeline", id: "timeline-list", ariaLabel: "Recordings" });
    this.video = el("video", {
      id: "timeline-video",
      controls: true,
      preload: "metadata",
      playsInline: true,
    });
    this.caption = el("p", { className: "status", id: "timeline-playing" });
    this.notice = el("p", { className: "error", id: "timeline-notice", role: "alert" }); // outlives reloads
    this.player = el("section", { className: "card player", hidden: true }, this.caption, this.video);
    root.append(
      el(
        "div",
        { className: "row timeline-filters" },
        previous,
        el("label", { htmlFor: "timeline-day" }, "Day "),
        this.dayInput,
        next,
        el("label", { htmlFor: "timeline-camera" }, "Camera "),
        this.cameraSelect,
        el("label", { htmlFor: "timeline-kind" }, "Show "),
        this.kindSelect,
      ),
      this.player,
      this.notice,
      this.status,
      this.error,
      this.list,
    );
    this.items = [];
    this.armed = null; // {id, until}: a delete waiting for its confirming click
    this.exports = new Map(); // clip id → where its export was written
    this.loading = null;
    this.reloadTimer = null;
    this.offs = ["clip_started", "clip_finished", "clip_deleted", "snapshot_ready"].map((type) =>
      api.on(type, () => this.reloadSoon()),
    );
    // The clip playing was deleted (here or elsewhere): stop it and say why, never a blank player.
    this.offs.push(
      api.on("clip_deleted", (event) => {
        if (event.data?.clip_id === this.video.dataset.clip) this.stop("The clip being played was deleted.");
      }),
    );
    this.video.addEventListener("error", () => {
      if (this.video.dataset.clip) this.stop("The clip cannot be played: it was deleted or its file is gone.");
    });
  }

  async start() {
    const state = await this.api.command("get_state");
    for (const cam of state.cameras) {
      this.cameraSelect.append(el("option", { value: cam.name }, cam.title || cam.name));
    }
    // Open on the day of the newest recording: that is what people come to see.
    const newest = await this.api.command("list_clips", { limit: 1 });
    const latest = newest.clips[0];
    await this.show(latest ? new Date(latest.start * 1000) : new Date());
  }

  async show(date) {
    this.day = dayStart(date);
    this.dayInput.value = isoDay(this.day);
    await this.load();
  }

  reloadSoon() {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => this.load(), 300);
  }

  async load() {
    const start = this.day.getTime() / 1000;
    const end = new Date(this.day.getFullYear(), this.day.getMonth(), this.day.getDate() + 1) / 1000;
    const args = { start, end };
    if (this.camera) args.camera = this.camera;
    const loading = (this.loading = Promise.all([
      listAll(this.api, "list_clips", "clips", args),
      listAll(this.api, "list_events", "events", args),
    ]));
    this.status.textContent = "Loading…";
    try {
      const [clips, events] = await loading;
      if (loading !== this.loading) return; // a newer load started
      const inClips = new Set(clips.map((c) => c.id));
      const stills = events.filter((e) => !e.clip_id || !inClips.has(e.clip_id));
      this.items = [
        ...clips.map((clip) => ({ clip, kind: kindOf(clip.events), time: clipTime(clip) })),
        ...stills.map((event) => ({ event, kind: event.kind, time: event.time })),
      ].sort((a, b) => b.time - a.time);
      this.error.textContent = "";
      this.render();
    } catch (err) {
      this.error.textContent = `Cannot load the recordings: ${err.message}`;
      this.status.textContent = "";
    }
  }

  render() {
    const shown = this.items.filter((item) => !this.kind || item.kind === this.kind);
    this.status.textContent = shown.length
      ? `${shown.length} on ${this.day.toLocaleDateString()}`
      : `Nothing recorded on ${this.day.toLocaleDateString()}.`;
    this.list.replaceChildren(...shown.map((item) => this.row(item)));
  }

  row(item) {
    const { clip, event } = item;
    const target = clip ?? event;
    const thumb = el("img", {
      className: "thumb",
      alt: "",
      loading: "lazy",
      width: 160,
      height: 90,
      src: url(clip ? `/api/clips/${clip.id}/thumbnail.jpg` : `/api/events/${event.id}/thumbnail.jpg`),
    });
    thumb.addEventListener("error", () => thumb.classList.add("missing"), { once: true });
    const badges = el("span", { className: "badges" }, el("span", { className: `badge ${item.kind}` }, KIND_TITLES[item.kind]));
    const info = el(
      "div",
      { className: "info" },
      el("strong", {}, clock(item.time)),
      " ",
      badges,
      el("div", { className: "status" }, target.camera, clip ? ` · ${duration(clip.duration)}` : " · snapshot"),
    );
    const actions = el("div", { className: "actions" });
    const li = el("li", { className: "item", id: `item-${target.id.replace(/[^a-zA-Z0-9_-]/g, "_")}` }, thumb, info, actions);
    if (!clip) {
      const open = el("button", { type: "button" }, "Open");
      open.addEventListener("click", () => window.open(url(`/api/events/${event.id}/snapshot.jpg`), "_blank", "noopener"));
      actions.append(open);
      return li;
    }
    li.dataset.clip = clip.id;
    if (clip.protected) badges.append(el("span", { className: "badge protected" }, "Protected"));
    // A clip still recording plays what is recorded so far (its whole fragments).
    if (clip.state === "recording") badges.append(el("span", { className: "badge recording" }, "● Recording"));
    if (clip.state === "partial") badges.append(el("span", { className: "badge partial" }, "Partial"));
    const play = el("button", { type: "button", className: "primary play", ariaLabel: `Play the clip of ${clock(item.time)}` }, "Play");
    play.addEventListener("click", () => this.play(clip, item));
    const protect = el(
      "button",
      { type: "button", className: "protect", ariaPressed: String(clip.protected) },
      clip.protected ? "Unprotect" : "Protect",
    );
    protect.addEventListener("click", () => this.act(protect, "protect_clip", { clip_id: clip.id, protected: !clip.protected }));
    const armed = this.armed?.id === clip.id && Date.now() < this.armed.until;
    const remove = el("button", { type: "button", className: "delete" }, armed ? "Really delete?" : "Delete");
    remove.addEventListener("click", () => this.remove(remove, clip));
    const exportButton = el("button", { type: "button", className: "export" }, "Export");
    const done = this.exports.get(clip.id);
    const exported = el("span", { className: "status exported" }, done ? `Exported: ${done}` : "");
    exportButton.addEventListener("click", async () => {
      const result = await this.act(exportButton, "export_clip", { clip_id: clip.id }, false);
      if (!result) return;
      this.exports.set(clip.id, result.path); // kept across re-renders of the day
      exported.textContent = `Exported: ${result.path}`;
    });
    if (clip.protected) remove.disabled = true; // protected clips are kept: unprotect first
    if (clip.state === "recording") {
      // The add-on deletes and exports finished clips only: say so rather than do nothing.
      for (const button of [remove, exportButton]) {
        button.disabled = true;
        button.title = "The clip is still recording";
      }
    }
    actions.append(play, protect, remove, exportButton, exported);
    return li;
  }

  play(clip, item) {
    this.player.hidden = false;
    this.notice.textContent = "";
    this.caption.textContent = `${clip.camera} · ${new Date(item.time * 1000).toLocaleString()} · ${KIND_TITLES[item.kind]}`;
    this.video.src = url(`/api/clips/${clip.id}.mp4`);
    this.video.dataset.clip = clip.id;
    this.video.play().catch(() => {}); // autoplay may be refused: the controls remain
    this.player.scrollIntoView({ block: "nearest" });
  }

  /** Delete takes two clicks; the first arms it (kept across re-renders) for a moment. */
  async remove(button, clip) {
    if (this.armed?.id !== clip.id || Date.now() > this.armed.until) {
      this.armed = { id: clip.id, until: Date.now() + CONFIRM_MS };
      button.textContent = "Really delete?";
      setTimeout(() => {
        if (button.isConnected) button.textContent = "Delete";
      }, CONFIRM_MS);
      return;
    }
    this.armed = null;
    if (this.video.dataset.clip === clip.id) this.stop("");
    const result = await this.act(button, "delete_clips", { clip_ids: [clip.id] });
    // A clip that started recording again or went meanwhile is not deleted: never silently.
    if (result && !result.deleted.includes(clip.id)) {
      this.error.textContent = "The clip was not deleted: it is recording or was deleted already.";
    }
  }

  /** Stop and hide the player; `why` (if any) stays below it until the next clip plays. */
  stop(why) {
    delete this.video.dataset.clip;
    this.video.removeAttribute("src");
    this.video.load();
    this.player.hidden = true;
    this.notice.textContent = why;
  }

  /** Run a command from a button; reload the day after it unless `reload` is false. */
  async act(button, command, args, reload = true) {
    button.disabled = true;
    try {
      const result = await this.api.command(command, args);
      this.error.textContent = "";
      if (reload) await this.load();
      return result;
    } catch (err) {
      this.error.textContent = err.message;
      return null;
    } finally {
      button.disabled = false;
    }
  }

  unmount() {
    clearTimeout(this.reloadTimer);
    for (const off of this.offs) off();
    this.video.removeAttribute("src");
    this.video.load();
  }
}

export async function mount(root, api) {
  ensureStyles();
  const timeline = new Timeline(root, api);
  await timeline.start().catch((err) => {
    timeline.error.textContent = `Cannot load the timeline: ${err.message}`;
  });
  return () => timeline.unmount();
}
