// Photo capture: live camera with ICAO guides, capture (Space) and retake (R), or a file;
// the quality report is listed and the failed checks are drawn on the photo.
"use strict";
(() => {
  const ASPECT = 35 / 45;  // ICAO portrait: the frame sent is cut to this from the camera's picture
  // Which marks each check is about (the others are listed only).
  const MARKS = {
    head_height: ["crown", "chin"], head_in_frame: ["crown", "chin"], eye_line: ["eyes"],
    eye_distance: ["eyes"], roll: ["eyes"], frontal_pose: ["eyes", "box"], centring: ["centre"],
    face_count: ["box"],
  };
  let root, video, overlay, guides, checkNames = {}, stream = null, busy = false;

  function crop(w, h) {
    if (w / h > ASPECT) { const cw = h * ASPECT; return { x: (w - cw) / 2, y: 0, w: cw, h }; }
    const ch = w / ASPECT; return { x: 0, y: (h - ch) / 2, w, h: ch };
  }

  function drawGuides() {
    const w = video.videoWidth, h = video.videoHeight;
    if (!w || !h) return;
    overlay.width = w; overlay.height = h;
    const g = overlay.getContext("2d"), c = crop(w, h);
    g.clearRect(0, 0, w, h);
    g.fillStyle = "rgba(0,0,0,0.45)";
    g.fillRect(0, 0, c.x, h); g.fillRect(c.x + c.w, 0, w - c.x - c.w, h);
    g.fillRect(c.x, 0, c.w, c.y); g.fillRect(c.x, c.y + c.h, c.w, h - c.y - c.h);
    const head = c.h * (guides.head_lo + guides.head_hi) / 2;
    const eye = c.y + c.h * (guides.eye_lo + guides.eye_hi) / 2;
    const crown = eye - guides.eye_in_head * head, chin = crown + head, cx = c.x + c.w / 2;
    g.fillStyle = "rgba(80,200,255,0.18)";
    g.fillRect(c.x, c.y + c.h * guides.eye_lo, c.w, c.h * (guides.eye_hi - guides.eye_lo));
    g.lineWidth = Math.max(2, w / 300);
    g.strokeStyle = "#50c8ff";
    g.beginPath(); g.ellipse(cx, (crown + chin) / 2, head * 0.36, head / 2, 0, 0, 2 * Math.PI); g.stroke();
    g.setLineDash([w / 60, w / 90]);
    for (const y of [crown, chin]) { g.beginPath(); g.moveTo(c.x, y); g.lineTo(c.x + c.w, y); g.stroke(); }
    g.beginPath(); g.moveTo(c.x, eye); g.lineTo(c.x + c.w, eye); g.stroke();
    g.setLineDash([]);
  }

  async function startCamera() {
    const status = document.getElementById("camera-status");
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 960 } }, audio: false });
      video.srcObject = stream;
      video.addEventListener("loadedmetadata", drawGuides);
      window.addEventListener("resize", drawGuides);
      status.textContent = "";
    } catch (err) {
      status.textContent = root.dataset.tNocamera;
      document.getElementById("capture-btn").disabled = true;
    }
  }

  function frameBlob() {
    const c = crop(video.videoWidth, video.videoHeight);
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(c.w); canvas.height = Math.round(c.h);
    canvas.getContext("2d").drawImage(video, c.x, c.y, c.w, c.h, 0, 0, canvas.width, canvas.height);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.95));
  }

  function failedMarks(checks) {
    const bad = new Set();
    for (const check of checks) if (!check.passed) for (const m of (MARKS[check.name] || [])) bad.add(m);
    return bad;
  }

  function drawReport(bitmap, report) {
    const canvas = document.getElementById("result");
    canvas.width = bitmap.width; canvas.height = bitmap.height;
    const g = canvas.getContext("2d");
    g.drawImage(bitmap, 0, 0);
    const m = report.marks;
    if (!m) return;
    const bad = failedMarks(report.checks), lw = Math.max(2, bitmap.width / 200);
    const colour = (name) => (bad.has(name) ? "#ff2a2a" : "#2ad12a");
    g.lineWidth = lw;
    g.strokeStyle = colour("box"); g.strokeRect(m.box[0], m.box[1], m.box[2], m.box[3]);
    for (const [name, y] of [["crown", m.crown], ["chin", m.chin]]) {
      g.strokeStyle = colour(name); g.beginPath(); g.moveTo(0, y); g.lineTo(bitmap.width, y); g.stroke();
    }
    g.strokeStyle = colour("eyes");
    if (m.eyes) for (const [x, y] of m.eyes) { g.beginPath(); g.arc(x, y, lw * 4, 0, 2 * Math.PI); g.stroke(); }
    g.setLineDash([lw * 3, lw * 2]);
    g.beginPath(); g.moveTo(0, m.eye_y); g.lineTo(bitmap.width, m.eye_y); g.stroke();
    g.strokeStyle = colour("centre");
    g.beginPath(); g.moveTo(m.centre_x, 0); g.lineTo(m.centre_x, bitmap.height); g.stroke();
    g.setLineDash([]);
  }

  function listReport(report) {
    const body = document.querySelector("#report-table tbody");
    body.replaceChildren();
    for (const check of report.checks) {
      const row = body.insertRow();
      row.className = check.passed ? "pass" : "fail";
      const verdict = check.passed ? root.dataset.tPass : root.dataset.tFail;
      const name = checkNames[check.name] || check.name;
      for (const text of [name, check.value === null ? "—" : String(check.value), check.threshold, verdict,
                          check.passed ? "" : check.reason]) {
        row.insertCell().textContent = text;
      }
    }
    const failed = report.checks.filter((c) => !c.passed).map((c) => c.name + (checkNames[c.name] ? " (" + checkNames[c.name] + ")" : ""));
    const verdictText = report.passed ? root.dataset.tPassed : root.dataset.tFailed + " " + failed.join(", ");
    document.getElementById("verdict").textContent = report.crop_error ? verdictText + " (" + report.crop_error + ")" : verdictText;
  }

  async function send(blob) {
    if (busy) return;
    busy = true;
    const result = await window.issuance.put(root.dataset.put, blob);
    busy = false;
    const section = document.getElementById("report-section");
    section.hidden = false;
    if (!result.ok) {
      document.querySelector("#report-table tbody").replaceChildren();
      const detail = result.body.detail;
      document.getElementById("verdict").textContent = typeof detail === "string" ? detail : (detail.message || JSON.stringify(detail));
      document.getElementById("retake-btn").hidden = false;
      document.getElementById("retake-btn").focus();
      return;
    }
    drawReport(await createImageBitmap(blob), result.body);
    listReport(result.body);
    document.getElementById("retake-btn").hidden = false;
    const next = document.getElementById("next");
    next.hidden = !result.body.passed;
    (result.body.passed ? next : document.getElementById("retake-btn")).focus();
  }

  async function capture() {
    if (!stream || !video.videoWidth) return;
    video.pause();
    await send(await frameBlob());
  }

  function retake() {
    document.getElementById("report-section").hidden = true;
    document.getElementById("next").hidden = true;
    video.play();
    document.getElementById("capture-btn").focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    root = document.getElementById("capture");
    if (!root) return;
    video = document.getElementById("video");
    overlay = document.getElementById("overlay");
    guides = JSON.parse(root.dataset.guides);
    checkNames = JSON.parse(root.dataset.checkNames);
    document.getElementById("capture-btn").addEventListener("click", capture);
    document.getElementById("retake-btn").addEventListener("click", retake);
    window.issuance.onFile("photo-file", send);
    window.issuance.onShortcut((event) => {
      if (event.code === "Space" && !(event.target instanceof HTMLButtonElement || event.target instanceof HTMLAnchorElement)) {
        event.preventDefault(); capture();
      } else if (event.key === "r" || event.key === "R") {
        event.preventDefault(); retake();
      }
    });
    startCamera();
  });
})();
