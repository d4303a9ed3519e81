/* social-care inbox: the only script besides htmx (inline scripts are refused by the CSP). */
"use strict";

// Every htmx request carries this session's CSRF token; the server refuses state changes without it.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  }
});
