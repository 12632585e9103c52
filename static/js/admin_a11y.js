// The admin's search-as-you-type choices (Select2, autocomplete_fields): Select2 draws a
// role=combobox named only by the chosen value (empty before a choice), while the field's
// <label> points at the hidden <select> - a screen reader announced an unnamed combobox
// (axe aria-input-field-name). Each combobox is named by its field's label, then its value.
(function () {
  "use strict";
  function nameComboboxes() {
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var label = select.id && document.querySelector('label[for="' + select.id + '"]');
      var container = select.nextElementSibling;
      var combo = container && container.querySelector(".select2-selection[role=combobox]");
      if (!label || !combo) {
        return;
      }
      if (!label.id) {
        label.id = select.id + "_label";
      }
      var ids = (combo.getAttribute("aria-labelledby") || "").split(" ").filter(function (id) {
        return id && id !== label.id;
      });
      combo.setAttribute("aria-labelledby", [label.id].concat(ids).join(" "));
    });
  }
  // Select2 draws its box when jQuery is ready, which may come before or after this script
  // runs (seen in CI: "load" had fired before the box existed): every box is named when it
  // appears, including the ones an added inline row brings.
  function watch() {
    nameComboboxes();
    new MutationObserver(function (changes) {
      if (changes.some(function (change) { return change.addedNodes.length; })) {
        nameComboboxes();
      }
    }).observe(document.body, {childList: true, subtree: true});
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watch);
  } else {
    watch();
  }
})();
