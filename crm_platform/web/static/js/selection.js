// "Select all on this page" for a list's checkboxes, and focus on an error summary so a
// screen reader hears it first (GOV.UK pattern). Initialised on htmx:load too.
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) { return; }
    var table = all.closest("table");
    table.querySelectorAll('tbody input[type="checkbox"][name="id"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });

  function focusSummary(root) {
    var summary = root.querySelector && root.querySelector("[data-autofocus]");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { focusSummary(document); });
  document.addEventListener("htmx:load", function (event) { focusSummary(event.detail.elt); });
})();
