// Print buttons (data-print): a static script, since the Content-Security-Policy allows
// no inline event handlers.
"use strict";
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
