// The exceptions queue: one box selects every application the supervisor may decide.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const bind = () => {
    const all = document.getElementById("select-all");
    if (!all || all.dataset.bound) return;
    all.hidden = false;
    all.dataset.bound = "1";
    all.addEventListener("change", () => {
      for (const box of document.querySelectorAll("input.pick")) box.checked = all.checked;
    });
  };
  bind();
  document.body.addEventListener("htmx:afterSwap", bind);
});
