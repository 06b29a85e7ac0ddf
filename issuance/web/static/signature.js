// Signature pad: pen, touch or mouse through pointer events on a canvas; C clears, S saves.
"use strict";
(() => {
  let pad, g, drawing = false, inked = false;

  function clear() {
    g.fillStyle = "#ffffff"; g.fillRect(0, 0, pad.width, pad.height);
    inked = false;
  }

  function point(event) {
    const r = pad.getBoundingClientRect();
    return [(event.clientX - r.left) * pad.width / r.width, (event.clientY - r.top) * pad.height / r.height];
  }

  // In a form (data-field names its file input), the signature goes with the form instead.
  function attach(root, blob) {
    const files = new DataTransfer();
    files.items.add(new File([blob], "signature.png", { type: blob.type || "image/png" }));
    document.getElementById(root.dataset.field).files = files.files;
    document.getElementById("signature-status").textContent = root.dataset.tSaved;
  }

  async function save(blob) {
    const root = document.getElementById("signature");
    if (root.dataset.field) { attach(root, blob); return; }
    const status = document.getElementById("signature-status");
    const result = await window.issuance.put(root.dataset.put, blob);
    const next = document.getElementById("next");
    if (result.ok) {
      status.textContent = root.dataset.tSaved;
      next.hidden = false; next.focus();
    } else {
      const detail = result.body.detail;
      status.textContent = typeof detail === "string" ? detail : (detail.message || JSON.stringify(detail));
    }
  }

  function savePad() {
    pad.toBlob((blob) => save(blob), "image/png");
  }

  document.addEventListener("DOMContentLoaded", () => {
    pad = document.getElementById("pad");
    if (!pad) return;
    g = pad.getContext("2d");
    g.lineCap = "round"; g.lineJoin = "round"; g.strokeStyle = "#000000";
    clear();
    pad.addEventListener("pointerdown", (event) => {
      drawing = true; pad.setPointerCapture(event.pointerId);
      const [x, y] = point(event);
      g.beginPath(); g.moveTo(x, y);
    });
    pad.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      const [x, y] = point(event);
      g.lineWidth = 2 + 4 * (event.pressure || 0.5);
      g.lineTo(x, y); g.stroke(); g.beginPath(); g.moveTo(x, y);
      inked = true;
    });
    const stop = () => { drawing = false; };
    pad.addEventListener("pointerup", stop);
    pad.addEventListener("pointercancel", stop);
    document.getElementById("clear-btn").addEventListener("click", clear);
    document.getElementById("save-btn").addEventListener("click", savePad);
    window.issuance.onFile("signature-file", save);
    window.issuance.onShortcut((event) => {
      if (event.key === "c" || event.key === "C") { event.preventDefault(); clear(); }
      else if (event.key === "s" || event.key === "S") { event.preventDefault(); savePad(); }
    });
  });
})();
