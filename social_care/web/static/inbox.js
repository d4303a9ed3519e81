/* social-care inbox: the only script besides htmx (inline scripts are refused by the CSP). */
"use strict";

// Every htmx request carries this session's CSRF token; the server refuses state changes without it.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  }
});

// Live character count under each reply box (X allows 280); the server's lint is the real check.
document.addEventListener("input", function (event) {
  var box = event.target;
  if (!(box instanceof HTMLTextAreaElement) || !box.dataset.count) {
    return;
  }
  var counter = document.getElementById(box.dataset.count);
  if (!counter) {
    return;
  }
  var limit = counter.dataset.limit ? Number(counter.dataset.limit) : 0;
  counter.textContent = box.value.length + (limit ? " / " + limit : "") + " characters";
  counter.classList.toggle("over", limit > 0 && box.value.length > limit);
});
