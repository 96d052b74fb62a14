/* Accessible names the admin's stock JavaScript widgets leave out, set as the widgets are
   built (on DOMContentLoaded, on load, or when an inline form is added), on every admin page:

   - select2 (autocomplete_fields): the combobox is named by its rendered selection alone,
     empty until something is chosen (axe: aria-input-field-name). It is named here by the
     field's <label> followed by the selection; the selection box by the label.
   - filter_horizontal / filter_vertical (SelectFilter2.js): the search icon in the filter's
     <label> is a <span> with an aria-label but no role (axe: aria-prohibited-attr). It is an
     image of a magnifier: role="img" makes its aria-label its name, which also names the input. */
(function () {
  "use strict";

  function labelOf(select) {
    if (!select || !select.id) {
      return null;
    }
    const label = document.querySelector('label[for="' + select.id + '"]');
    if (label && !label.id) {
      label.id = select.id + "_label";
    }
    return label;
  }

  function nameSelect2(combobox) {
    const container = combobox.closest(".select2-container");
    const select = container && container.previousElementSibling;
    const label = labelOf(select);
    if (!label) {
      return;
    }
    const rendered = combobox.querySelector(".select2-selection__rendered");
    const parts = [label.id];
    if (rendered && rendered.id) {
      rendered.setAttribute("aria-labelledby", label.id);
      parts.push(rendered.id);
    }
    combobox.setAttribute("aria-labelledby", parts.join(" "));
  }

  const COMBOBOX = '.select2-selection[role="combobox"]';
  const ICON = ".selector-filter .search-label-icon[aria-label]:not([role])";

  function nameIcon(icon) {
    icon.setAttribute("role", "img");
  }

  // ``root`` and what it holds: the widgets insert whole subtrees, or single elements.
  function each(root, selector, fn) {
    if (root.matches(selector)) {
      fn(root);
    }
    root.querySelectorAll(selector).forEach(fn);
  }

  function fix(root) {
    each(root, COMBOBOX, nameSelect2);
    each(root, ICON, nameIcon);
  }

  new MutationObserver(function (mutations) {
    mutations.forEach(function (mutation) {
      mutation.addedNodes.forEach(function (node) {
        if (node.nodeType === Node.ELEMENT_NODE) {
          fix(node);
        }
      });
    });
  }).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", function () {
    fix(document.documentElement);
  });
})();
