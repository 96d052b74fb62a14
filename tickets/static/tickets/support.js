// Support console: canned replies (macros) insert into the reply box. Loaded from a file
// (no inline script) so it runs under the strict Content-Security-Policy.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var picker = document.getElementById("macro-picker");
  var box = document.getElementById("reply-text");
  if (!picker || !box) {
    return;
  }
  picker.addEventListener("change", function () {
    var option = picker.options[picker.selectedIndex];
    var body = option ? option.getAttribute("data-body") : null;
    if (body) {
      var start = box.selectionStart || 0;
      var end = box.selectionEnd || 0;
      box.value = box.value.slice(0, start) + body + box.value.slice(end);
      box.focus();
      box.selectionStart = box.selectionEnd = start + body.length;
    }
    picker.selectedIndex = 0;
  });
});
