// The filter builder: each condition offers only the operators its field's type has
// (data-ops on the field's option); without JavaScript every operator is listed and the
// server names a wrong one. A condition's "Remove" button (shown only with JavaScript:
// without it, choosing no field and applying does the same) empties the row and applies
// the filters again. Initialised on htmx:load, so swapped-in rows work too.
(function () {
  "use strict";

  function limit(row) {
    var field = row.querySelector("[data-filter-field]");
    var op = row.querySelector("[data-filter-op]");
    if (!field || !op) { return; }
    var chosen = field.options[field.selectedIndex];
    var allowed = chosen && chosen.dataset.ops ? chosen.dataset.ops.split(" ") : null;
    Array.prototype.forEach.call(op.options, function (option) {
      var fits = !allowed || allowed.indexOf(option.value) !== -1;
      option.hidden = !fits;
      option.disabled = !fits;
    });
    if (op.selectedOptions[0] && op.selectedOptions[0].disabled) {
      var first = Array.prototype.find.call(op.options, function (o) { return !o.disabled; });
      if (first) { op.value = first.value; }
    }
  }

  function init(root) {
    root.querySelectorAll(".filter-row").forEach(function (row) {
      limit(row);
      var field = row.querySelector("[data-filter-field]");
      if (field && !field.dataset.bound) {
        field.dataset.bound = "1";
        field.addEventListener("change", function () { limit(row); });
      }
      var remove = row.querySelector("[data-filter-remove]");
      if (remove && !remove.dataset.bound) {
        remove.dataset.bound = "1";
        remove.hidden = false;
        remove.addEventListener("click", function () {
          field.value = "";  // a row without a field is no condition
          row.querySelector("input[name=value]").value = "";
          var form = row.closest("form");
          if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
        });
      }
    });
  }

  document.addEventListener("htmx:load", function (event) { init(event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
