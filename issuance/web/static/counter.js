// The application form: remember visited fields, mark invalid ones, keep the MRZ proposal in its field.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("application-form");
  if (!form) return;
  const touched = document.getElementById("touched");
  const mrz = document.getElementById("f-mrz_name");
  const seen = new Set();
  mrz.dataset.auto = mrz.value ? "0" : "1";
  form.addEventListener("focusout", (event) => {
    if (event.target.name && event.target.name !== "_touched") {
      seen.add(event.target.name);
      touched.value = Array.from(seen).join(" ");
    }
  });
  mrz.addEventListener("input", () => { mrz.dataset.auto = mrz.value ? "0" : "1"; });
  document.body.addEventListener("htmx:afterSettle", () => {
    form.querySelectorAll("[aria-describedby]").forEach((input) => {
      const error = document.getElementById("err-" + input.name);
      if (error && error.textContent.trim()) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
    const proposal = document.getElementById("mrz-proposal").textContent.trim();
    if (mrz.dataset.auto === "1") mrz.value = proposal;
  });
});
