// Shared by every page: nothing yet beyond what htmx does; the CSRF header comes from <body hx-headers>.
"use strict";
window.issuance = {
  csrf() { return document.querySelector('meta[name="csrf-token"]').content; },
  // True when a key press belongs to a text field, not to a screen shortcut.
  typing(event) {
    const el = event.target;
    return el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement ||
      el instanceof HTMLSelectElement || el.isContentEditable;
  },
  // Send the file chosen in an <input type=file> to `handle`.
  onFile(id, handle) {
    document.getElementById(id).addEventListener("change", (event) => {
      const file = event.target.files[0];
      if (file) handle(file);
    });
  },
  // Screen shortcuts: plain key presses outside text fields.
  onShortcut(handle) {
    document.addEventListener("keydown", (event) => {
      if (this.typing(event) || event.ctrlKey || event.altKey || event.metaKey) return;
      handle(event);
    });
  },
  async put(url, blob) {
    const response = await fetch(url, {
      method: "PUT", body: blob, credentials: "same-origin",
      headers: { "Content-Type": blob.type || "application/octet-stream", "X-CSRF-Token": this.csrf() },
    });
    let body = null;
    try { body = await response.json(); } catch (e) { body = { detail: response.statusText }; }
    return { ok: response.ok, status: response.status, body };
  },
};
