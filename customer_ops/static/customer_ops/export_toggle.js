/* The "Select all" box of django-import-export's export page, bound here instead of by an
   inline onchange attribute (blocked by the Content-Security-Policy). onSelectToggleChange
   comes from import_export/export_selectable_fields.js, loaded by the export form's media. */
(function () {
  "use strict";
  function bind() {
    document.querySelectorAll("input.select-toggle").forEach(function (box) {
      box.addEventListener("change", function (event) {
        if (typeof window.onSelectToggleChange === "function") {
          window.onSelectToggleChange(event);
        }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", bind);
  } else {
    bind();
  }
})();
