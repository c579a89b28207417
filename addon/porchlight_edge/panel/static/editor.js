// The mask and zone editor, drawn over a camera's live picture.
//
// Polygons are kept in relative coordinates (0..1 of the picture's width and height) and
// saved in the add-on options' own form, "x1,y1 x2,y2 x3,y3" (zones "name=x1,y1 …"), with
// `set_camera_layout`. Privacy masks are drawn solid black, as they will be burned in;
// zones are outlined with their names; motion masks are grey.
//
// Mouse and touch (pointer events): "Add …" then click or tap the corners, "Finish";
// drag a corner to move it; drag an edge's middle dot to add a corner there; select a
// corner and "Delete corner" (or double-click / double-tap it) to remove it.
// Keyboard: every corner is focusable; arrow keys move it (Shift: 5 %), Delete removes
// it, Enter adds a corner after it. "Finish" with no corners placed adds a square to move.

const SVG = "http://www.w3.org/2000/svg";
const KINDS = {
  privacy: { field: "privacy_masks", label: "Privacy mask", css: "mask" },
  zone: { field: "zones", label: "Zone", css: "zone" },
  motion: { field: "motion_masks", label: "Motion mask", css: "motion-mask" },
};
const ZONE_NAME = /^[A-Za-z0-9_-]{1,32}$/;
const REPLACED_NAMES = { privacy_masks: "privacy masks", zones: "zones", motion_masks: "motion masks" };
const STEP = 0.01;
const DOUBLE_PRESS_MS = 400;

const clamp = (v) => Math.min(1, Math.max(0, v));
const num = (v) => String(Number(v.toFixed(4)));

function parsePolygon(text) {
  return text
    .trim()
    .split(/\s+/)
    .map((pair) => pair.split(",").map(Number));
}

function polygonText(points) {
  return points.map(([x, y]) => `${num(x)},${num(y)}`).join(" ");
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

function button(text, onClick, className = "") {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.className = className;
  b.addEventListener("click", onClick);
  return b;
}

class Editor {
  constructor(card, api) {
    this.card = card;
    this.api = api;
    this.camera = card.name;
    this.shapes = []; // {kind, name?, points: [[x, y], …]}
    this.selected = null; // index into shapes
    this.drawing = null; // shape being drawn
    this.occupied = new Set();
    this.dirty = false;
    this.size = [1000, 750];
    this.build();
    this.load();
    card.onUpdate = (cam) => this.onState(cam);
    card.onOccupancy = (data) => {
      if (this.occupied.has(data.zone) === data.occupied) return;
      if (data.occupied) this.occupied.add(data.zone);
      else this.occupied.delete(data.zone);
      this.markOccupancy();
    };
    if (card.state) this.onState(card.state);
  }

  build() {
    const stage = this.card.stage;
    this.svg = svg("svg", { class: "overlay", role: "group", "aria-label": "Masks and zones" });
    stage.append(this.svg);
    stage.addEventListener("pointerdown", (e) => this.stagePointer(e));
    this.card.picture.addEventListener("load", () => this.resize());

    this.status = document.createElement("span");
    this.status.className = "hint";
    this.status.setAttribute("role", "status");
    this.finishButton = button("Finish shape", () => this.finish(), "primary");
    this.finishButton.hidden = true;
    this.deleteCornerButton = button("Delete corner", () => this.deleteFocusedCorner());
    this.deleteShapeButton = button("Delete shape", () => this.deleteShape());
    this.saveButton = button("Save", () => this.save(), "primary");
    this.saveButton.className = "primary save";
    this.revertButton = button("Revert", () => this.load());
    const tools = document.createElement("div");
    tools.className = "row tools";
    tools.append(
      button("Add privacy mask", () => this.startDrawing("privacy")),
      button("Add zone", () => this.startDrawing("zone")),
      button("Add motion mask", () => this.startDrawing("motion")),
      this.finishButton,
      this.deleteCornerButton,
      this.deleteShapeButton,
      this.saveButton,
      this.revertButton,
      this.status,
    );
    this.list = document.createElement("ul");
    this.list.className = "shapes";
    // What a later edit of the add-on options replaced (the later edit wins, at start).
    this.notice = document.createElement("p");
    this.notice.className = "notice replaced";
    this.notice.setAttribute("role", "alert");
    this.notice.hidden = true;
    this.card.root.append(this.notice, tools, this.list);
  }

  onState(cam) {
    // Camera state arrives often: only what it changes is touched, so a corner being
    // dragged, a focused corner or a zone name being typed is left alone.
    if (cam.width && cam.height) this.setSize(cam.width, cam.height);
    if (cam.zones) {
      this.occupied = new Set(cam.zones.filter((z) => z.occupied).map((z) => z.name));
      this.markOccupancy();
    }
  }

  markOccupancy() {
    for (const polygon of this.svg.querySelectorAll("polygon.zone")) {
      const shape = this.shapes[Number(polygon.dataset.shape)];
      polygon.classList.toggle("occupied", Boolean(shape && this.occupied.has(shape.name)));
    }
  }

  resize() {
    const img = this.card.picture;
    if (img.naturalWidth && img.naturalHeight) this.setSize(img.naturalWidth, img.naturalHeight);
  }

  setSize(w, h) {
    if (this.size[0] === w && this.size[1] === h) return;
    this.size = [w, h];
    this.render();
  }

  async load() {
    try {
      const layout = await this.api.command("get_camera_layout", { camera: this.camera });
      this.fromLayout(layout);
      this.dirty = false;
      this.say("");
    } catch (err) {
      this.say(`Cannot load the masks: ${err.message}`);
    }
  }

  fromLayout(layout) {
    const replaced = (layout.replaced_by_options ?? []).map((key) => REPLACED_NAMES[key] ?? key);
    this.notice.hidden = replaced.length === 0;
    this.notice.textContent = replaced.length
      ? `A later edit of the add-on options replaced the ${replaced.join(" and ")} drawn here:` +
        " the options' ones apply now. Draw and save here again to change them."
      : "";
    this.shapes = [
      ...layout.privacy_masks.map((t) => ({ kind: "privacy", points: parsePolygon(t) })),
      ...layout.zones.map((t) => {
        const [name, corners] = t.split("=");
        return { kind: "zone", name, points: parsePolygon(corners) };
      }),
      ...layout.motion_masks.map((t) => ({ kind: "motion", points: parsePolygon(t) })),
    ];
    this.selected = null;
    this.drawing = null;
    this.render();
  }

  toLayout() {
    const layout = { camera: this.camera, privacy_masks: [], zones: [], motion_masks: [] };
    for (const shape of this.shapes) {
      const text = polygonText(shape.points);
      layout[KINDS[shape.kind].field].push(shape.kind === "zone" ? `${shape.name}=${text}` : text);
    }
    return layout;
  }

  async save() {
    const bad = this.shapes.find((s) => s.kind === "zone" && !ZONE_NAME.test(s.name));
    if (bad) return this.say("A zone name needs 1-32 letters, digits, _ or -.");
    this.say("Saving…");
    try {
      const layout = await this.api.command("set_camera_layout", this.toLayout());
      this.fromLayout(layout);
      this.dirty = false;
      this.say("Saved: applied to the live picture, clips, snapshots and motion.");
    } catch (err) {
      this.say(`Not saved: ${err.message}`);
    }
  }

  say(text) {
    this.status.textContent = text;
  }

  changed() {
    this.dirty = true;
    this.say("Unsaved changes");
    this.render();
  }

  // --- pointer input --------------------------------------------------------------------
  relative(event) {
    const rect = this.svg.getBoundingClientRect();
    return [
      clamp((event.clientX - rect.left) / rect.width),
      clamp((event.clientY - rect.top) / rect.height),
    ];
  }

  stagePointer(event) {
    if (this.drawing) {
      event.preventDefault();
      this.drawing.points.push(this.relative(event));
      this.render();
      return;
    }
    const target = event.target;
    if (target.dataset?.shape !== undefined && target.dataset.vertex === undefined) {
      this.selected = Number(target.dataset.shape);
      this.render();
    } else if (target === this.svg) {
      this.selected = null;
      this.render();
    }
  }

  drag(event, shapeIndex, vertexIndex, handle = event.target) {
    event.preventDefault();
    event.stopPropagation();
    handle.setPointerCapture?.(event.pointerId);
    // A second press on the same corner within DOUBLE_PRESS_MS removes it (double-click,
    // double-tap). Counted here: a redraw between the presses would lose a dblclick event.
    const now = performance.now();
    const last = this.lastPress;
    this.lastPress = { shapeIndex, vertexIndex, at: now };
    if (last && last.shapeIndex === shapeIndex && last.vertexIndex === vertexIndex && now - last.at < DOUBLE_PRESS_MS) {
      this.lastPress = null;
      this.deleteCorner(shapeIndex, vertexIndex);
      return;
    }
    const start = [event.clientX, event.clientY];
    let moved = false;
    this.dragging = true; // redraws wait: a new element would lose the pointer capture
    const move = (e) => {
      // A click (or the first half of a double-click) is not a move: a few pixels of slack.
      if (!moved && Math.hypot(e.clientX - start[0], e.clientY - start[1]) < 3) return;
      moved = true;
      this.lastPress = null;
      this.shapes[shapeIndex].points[vertexIndex] = this.relative(e);
      this.dirty = true;
      this.moveVertex(shapeIndex, vertexIndex);
    };
    const end = (e) => {
      // The last move may arrive only with the release (moves are batched per frame).
      if (e.type === "pointerup") move(e);
      handle.removeEventListener("pointermove", move);
      handle.removeEventListener("pointerup", end);
      handle.removeEventListener("pointercancel", end);
      this.dragging = false;
      if (moved) {
        this.focusAfter = [shapeIndex, vertexIndex];
        this.changed();
      } else {
        if (this.renderWaiting) this.render();
        this.focusAfter = null;
        this.svg.querySelector(`.vertex[data-shape="${shapeIndex}"][data-vertex="${vertexIndex}"]`)?.focus();
      }
    };
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", end);
    handle.addEventListener("pointercancel", end);
  }



  // --- drawing --------------------------------------------------------------------------
  startDrawing(kind) {
    const shape = { kind, points: [] };
    if (kind === "zone") shape.name = this.freeZoneName();
    this.drawing = shape;
    this.selected = null;
    this.finishButton.hidden = false;
    this.say(`${KINDS[kind].label}: click or tap its corners on the picture, then "Finish shape".`);
    this.render();
  }

  freeZoneName() {
    const names = new Set(this.shapes.filter((s) => s.kind === "zone").map((s) => s.name));
    let n = 1;
    while (names.has(`zone_${n}`)) n++;
    return `zone_${n}`;
  }

  finish() {
    const shape = this.drawing;
    if (!shape) return;
    if (shape.points.length === 0) {
      shape.points = [
        [0.35, 0.35],
        [0.65, 0.35],
        [0.65, 0.65],
        [0.35, 0.65],
      ];
    }
    if (shape.points.length < 3) return this.say("A shape needs at least three corners.");
    this.drawing = null;
    this.finishButton.hidden = true;
    this.shapes.push(shape);
    this.selected = this.shapes.length - 1;
    this.focusAfter = [this.selected, 0];
    this.changed();
  }

  // --- editing --------------------------------------------------------------------------
  deleteShape() {
    if (this.selected === null) return this.say("Select a shape first.");
    this.shapes.splice(this.selected, 1);
    this.selected = null;
    this.changed();
  }

  deleteCorner(shapeIndex, vertexIndex) {
    const shape = this.shapes[shapeIndex];
    if (shape.points.length <= 3) return this.say("A shape keeps at least three corners.");
    shape.points.splice(vertexIndex, 1);
    this.focusAfter = [shapeIndex, Math.min(vertexIndex, shape.points.length - 1)];
    this.changed();
  }

  deleteFocusedCorner() {
    const [s, v] = this.lastVertex ?? [];
    if (s === undefined || !this.shapes[s]) return this.say("Select a corner first.");
    this.deleteCorner(s, v);
  }

  insertAfter(shapeIndex, vertexIndex, point = null) {
    const points = this.shapes[shapeIndex].points;
    const a = points[vertexIndex];
    const b = points[(vertexIndex + 1) % points.length];
    points.splice(vertexIndex + 1, 0, point ?? [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2]);
    this.focusAfter = [shapeIndex, vertexIndex + 1];
    this.changed();
  }

  vertexKey(event, shapeIndex, vertexIndex) {
    const step = event.shiftKey ? STEP * 5 : STEP;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[event.key]) {
      const point = this.shapes[shapeIndex].points[vertexIndex];
      const [dx, dy] = moves[event.key];
      this.shapes[shapeIndex].points[vertexIndex] = [clamp(point[0] + dx), clamp(point[1] + dy)];
      this.focusAfter = [shapeIndex, vertexIndex];
      this.changed();
    } else if (event.key === "Delete" || event.key === "Backspace") {
      this.deleteCorner(shapeIndex, vertexIndex);
    } else if (event.key === "Enter") {
      this.insertAfter(shapeIndex, vertexIndex);
    } else {
      return;
    }
    event.preventDefault();
  }

  // --- drawing the overlay --------------------------------------------------------------
  render() {
    this.renderWaiting = this.dragging;
    if (this.dragging) return;
    const [w, h] = this.size;
    this.svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    this.svg.setAttribute("preserveAspectRatio", "none");
    const r = Math.max(w, h) * 0.014;
    const nodes = [];
    const px = ([x, y]) => `${x * w},${y * h}`;
    this.shapes.forEach((shape, i) => {
      const kind = KINDS[shape.kind];
      const classes = [kind.css];
      if (i === this.selected) classes.push("selected");
      if (shape.kind === "zone" && this.occupied.has(shape.name)) classes.push("occupied");
      nodes.push(
        svg("polygon", {
          points: shape.points.map(px).join(" "),
          class: classes.join(" "),
          "data-shape": i,
          "data-kind": shape.kind,
        }),
      );
      if (shape.kind === "zone") {
        const label = svg("text", { x: shape.points[0][0] * w + r, y: shape.points[0][1] * h - r, class: "label" });
        label.setAttribute("font-size", String(r * 1.6));
        label.textContent = shape.name;
        nodes.push(label);
      }
    });
    if (this.drawing) {
      const points = this.drawing.points.map(px).join(" ");
      nodes.push(svg("polyline", { points, class: `drawing ${KINDS[this.drawing.kind].css}` }));
      for (const p of this.drawing.points) {
        nodes.push(svg("circle", { cx: p[0] * w, cy: p[1] * h, r, class: "vertex drawing" }));
      }
    }
    if (this.selected !== null && this.shapes[this.selected]) {
      const i = this.selected;
      const shape = this.shapes[i];
      shape.points.forEach((p, j) => {
        const q = shape.points[(j + 1) % shape.points.length];
        const mid = svg("circle", {
          cx: ((p[0] + q[0]) / 2) * w,
          cy: ((p[1] + q[1]) / 2) * h,
          r: r * 0.6,
          class: "midpoint",
          "data-shape": i,
          "data-vertex": j,
        });
        mid.addEventListener("pointerdown", (e) => {
          e.preventDefault();
          e.stopPropagation();
          this.insertAfter(i, j, this.relative(e));
          this.render();
          const added = this.svg.querySelector(`.vertex[data-shape="${i}"][data-vertex="${j + 1}"]`);
          if (added) this.drag(e, i, j + 1, added);
        });
        nodes.push(mid);
      });
      shape.points.forEach((p, j) => nodes.push(this.handle(i, j, p, r)));
    }
    const active = document.activeElement;
    const kept = this.svg.contains(active) && active.dataset.vertex !== undefined;
    this.svg.replaceChildren(...nodes);
    this.renderList();
    const [s, v] = this.focusAfter ?? (kept ? [active.dataset.shape, active.dataset.vertex] : []);
    this.focusAfter = null;
    if (s !== undefined) this.svg.querySelector(`.vertex[data-shape="${s}"][data-vertex="${v}"]`)?.focus();
  }

  handle(i, j, p, r) {
    const [w, h] = this.size;
    const shape = this.shapes[i];
    const handle = svg("circle", {
      cx: p[0] * w,
      cy: p[1] * h,
      r,
      class: "vertex",
      tabindex: "0",
      role: "button",
      "data-shape": i,
      "data-vertex": j,
      "aria-label": `${KINDS[shape.kind].label} ${shape.name ?? i + 1}, corner ${j + 1} of ${shape.points.length} at ${Math.round(p[0] * 100)} %, ${Math.round(p[1] * 100)} %. Arrow keys move it, Delete removes it, Enter adds one after it.`,
    });
    handle.addEventListener("pointerdown", (e) => this.drag(e, i, j));
    handle.addEventListener("keydown", (e) => this.vertexKey(e, i, j));
    handle.addEventListener("focus", () => {
      this.lastVertex = [i, j];
    });
    return handle;
  }

  moveVertex(i, j) {
    // While dragging, move the shapes in place (a full render would lose pointer capture).
    const [w, h] = this.size;
    const shape = this.shapes[i];
    const p = shape.points[j];
    this.svg.querySelector(`polygon[data-shape="${i}"]`)?.setAttribute(
      "points",
      shape.points.map(([x, y]) => `${x * w},${y * h}`).join(" "),
    );
    const handle = this.svg.querySelector(`.vertex[data-shape="${i}"][data-vertex="${j}"]`);
    handle?.setAttribute("cx", p[0] * w);
    handle?.setAttribute("cy", p[1] * h);
  }

  renderList() {
    const items = this.shapes.map((shape, i) => {
      const li = document.createElement("li");
      if (i === this.selected) li.className = "selected";
      const pick = button(
        `${KINDS[shape.kind].label} ${shape.kind === "zone" ? shape.name : i + 1} (${shape.points.length} corners)`,
        () => {
          this.selected = i;
          this.focusAfter = [i, 0];
          this.render();
        },
      );
      pick.className = "pick";
      li.append(pick);
      if (shape.kind === "zone") {
        const name = document.createElement("input");
        name.value = shape.name;
        name.setAttribute("aria-label", "Zone name");
        name.pattern = ZONE_NAME.source.slice(1, -1);
        name.addEventListener("change", () => {
          shape.name = name.value.trim();
          this.changed();
        });
        li.append(name);
      }
      return li;
    });
    this.list.replaceChildren(...items);
  }
}

export function attachEditor(card, api) {
  card.editor = new Editor(card, api);
  return card.editor;
}
