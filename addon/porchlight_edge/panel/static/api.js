// The add-on's websocket protocol (docs/protocol.md) and HTTP resources, for the panel.
//
// Every URL is relative to the page (`<root>/panel/`), so the same code works on the API
// port and under Home Assistant's ingress prefix. Through ingress, Home Assistant has
// signed the user in already and the socket needs no token; standalone, the token the user
// typed is kept in this tab's sessionStorage and sent only inside the websocket and in one
// POST that opens a cookie session for pictures and clips (never in a URL).

const ROOT = new URL("../", document.baseURI);
const TOKEN_KEY = "porchlight.token";
const RETRY_MS = [500, 1000, 2000, 5000, 10000];

/** The URL of an add-on resource, e.g. url("/api/cameras/front_door/snapshot.jpg"). */
export function url(path) {
  return new URL(String(path).replace(/^\/+/, ""), ROOT).href;
}

export class AuthError extends Error {}

export class CommandError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export class Api {
  constructor() {
    this.ws = null;
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = new Map(); // event type ("*" for all) → Set of callbacks
    this.statusListeners = new Set();
    this.serverInfo = null;
    this.retry = 0;
    this.closedByUs = false;
    this.subscribed = false;
  }

  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  /** Keep `token` for this tab and open the cookie session for pictures and clips. */
  async signIn(token) {
    const response = await fetch(url("/panel/session"), {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
      credentials: "same-origin",
    });
    if (response.status === 401) throw new AuthError("The access token is not right.");
    if (!response.ok) throw new Error(`Sign-in failed (HTTP ${response.status}).`);
    sessionStorage.setItem(TOKEN_KEY, token);
  }

  /** End the cookie session (the add-on checks the token, as for opening it), forget the
   * token and close the websocket. Rejects when the add-on did not end the session. */
  async signOut() {
    const token = this.token;
    sessionStorage.removeItem(TOKEN_KEY);
    this.close();
    if (!token) return;
    const response = await fetch(url("/panel/session"), {
      method: "DELETE",
      headers: { Authorization: `Bearer ${token}` },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(`Sign-out failed (HTTP ${response.status}).`);
  }

  /** Open and authenticate the websocket; rejects with AuthError when a token is needed. */
  connect() {
    this.closedByUs = false;
    return new Promise((resolve, reject) => {
      const wsUrl = new URL(url("/api/websocket"));
      wsUrl.protocol = wsUrl.protocol === "https:" ? "wss:" : "ws:";
      const ws = new WebSocket(wsUrl.href);
      this.ws = ws;
      let authed = false;
      ws.onmessage = (message) => {
        const data = JSON.parse(message.data);
        if (data.type === "server_info") {
          this.serverInfo = data;
          const auth = {
            type: "auth",
            client: "panel",
            protocol_version: data.protocol_version,
            protocol_minor: data.protocol_minor,
            min_supported_version: data.min_supported_version,
          };
          if (this.token) auth.token = this.token;
          ws.send(JSON.stringify(auth));
        } else if (data.type === "auth_ok") {
          authed = true;
          this.retry = 0;
          this.setStatus("connected");
          resolve(this);
          if (this.subscribed) this.resubscribe();
        } else if (data.type === "auth_invalid") {
          reject(new AuthError(data.error?.message ?? "not signed in"));
          this.closedByUs = true;
          ws.close();
        } else if (data.type === "result") {
          const call = this.pending.get(data.message_id);
          if (!call) return;
          this.pending.delete(data.message_id);
          if (data.success) call.resolve(data.result);
          else call.reject(new CommandError(data.error?.code, data.error?.message));
        } else if (data.type === "event") {
          this.dispatch(data);
        }
      };
      ws.onclose = () => {
        for (const call of this.pending.values()) call.reject(new Error("connection lost"));
        this.pending.clear();
        if (!authed) reject(new Error("cannot reach the add-on"));
        if (this.closedByUs || !authed) return;
        this.setStatus("reconnecting…");
        const delay = RETRY_MS[Math.min(this.retry++, RETRY_MS.length - 1)];
        setTimeout(() => this.connect().catch(() => this.setStatus("offline")), delay);
      };
    });
  }

  close() {
    this.closedByUs = true;
    this.ws?.close();
  }

  /** Send a command; resolves with its result, rejects with a CommandError. */
  command(name, args = {}) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error("not connected"));
    }
    const id = this.nextId++;
    const message = { message_id: id, command: name };
    if (args && Object.keys(args).length) message.args = args;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify(message));
    });
  }

  /** Call `callback(event)` for events of `type` ("*": all); returns the unsubscribe function. */
  on(type, callback) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(callback);
    if (!this.subscribed) {
      this.subscribed = true;
      this.resubscribe();
    }
    return () => this.listeners.get(type)?.delete(callback);
  }

  resubscribe() {
    this.command("subscribe").catch(() => {});
  }

  dispatch(event) {
    for (const key of [event.event, "*"]) {
      for (const callback of this.listeners.get(key) ?? []) {
        try {
          callback(event);
        } catch (err) {
          console.error(err);
        }
      }
    }
  }

  onStatus(callback) {
    this.statusListeners.add(callback);
    return () => this.statusListeners.delete(callback);
  }

  setStatus(text) {
    for (const callback of this.statusListeners) callback(text);
  }
}
