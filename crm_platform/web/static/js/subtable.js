// Subtable lines on an entry page: "Add line" copies the blank row the renderer leaves in
// a <template>, numbering its inputs after the last line; "Remove" takes a line out.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var add = event.target.closest(".loom-add-row");
    if (add) {
      var table = document.getElementById(add.dataset.for);
      var template = document.querySelector('template.loom-row-template[data-for="' + add.dataset.for + '"]');
      if (!table || !template) { return; }
      var body = table.tBodies[0];
      var index = Number(table.dataset.next || body.rows.length);
      table.dataset.next = String(index + 1);
      var html = template.innerHTML.split("__row__").join(String(index));
      body.insertAdjacentHTML("beforeend", html);
      var first = body.rows[body.rows.length - 1].querySelector("input, select, textarea");
      if (first) { first.focus(); }
      return;
    }
    var remove = event.target.closest(".loom-remove-row");
    if (remove) {
      var row = remove.closest("tr");
      var wrapper = row.closest("table");
      row.remove();
      var next = wrapper && wrapper.parentElement.querySelector(".loom-add-row");
      if (next) { next.focus(); }
    }
  });
})();
