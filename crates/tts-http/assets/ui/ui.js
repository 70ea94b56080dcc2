// TTS web UI: progressive enhancement only; every page and form works without this script.
// It keeps a button from being pressed twice while its form is on its way.
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.sent === "1") {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  window.setTimeout(function () { form.dataset.sent = ""; }, 5000);
});
