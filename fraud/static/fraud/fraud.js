/* Fraud console: ask before the irreversible one-click actions (forms marked data-confirm). */
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  var message = form.getAttribute && form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
