// The form builder in the browser: dragging (SortableJS, with its pointer-event
// fallback: one behaviour for mouse, pen and touch) — a field within or between sections,
// a type from the palette onto the canvas — posts the same steps the buttons and the
// keyboard do; the palette's search; Ctrl+Z / Ctrl+Shift+Z for undo and redo.
// Every step answers with the re-rendered builder, so this re-binds on htmx:load.
(function () {
  "use strict";

  function builder() { return document.getElementById("builder"); }

  // The draft's revision as the server last said it (the bar is redrawn after every
  // change; a form whose own inputs were not redrawn still carries an older one).
  function revision() { return document.getElementById("design-status").dataset.revision; }

  document.addEventListener("htmx:configRequest", function (event) {
    var root = builder();
    if (root && root.contains(event.detail.elt) && event.detail.parameters.revision !== undefined) {
      event.detail.parameters.revision = revision();
    }
  });

  function post(values) {
    var root = builder();
    values.csrf_token = root.dataset.csrf;
    values.revision = revision();
    htmx.ajax("POST", root.dataset.step, {values: values, target: "#builder", swap: "outerHTML"});
  }

  function once(element) {
    if (element.dataset.bound) { return false; }
    element.dataset.bound = "1";
    return true;
  }

  // Each part is bound once; a change may redraw the whole builder or the canvas alone.
  function bind(root) {
    if (!root) { return; }
    if (window.Sortable) {
      root.querySelectorAll("[data-palette]").forEach(function (list) {
        if (!once(list)) { return; }
        Sortable.create(list, {group: {name: "fields", pull: "clone", put: false},
                               sort: false, animation: 120, forceFallback: true});
      });
      root.querySelectorAll(".canvas-fields").forEach(function (list) {
        if (!once(list)) { return; }
        Sortable.create(list, {
          group: "fields", animation: 120, filter: ".canvas-empty", forceFallback: true,
          onAdd: function (event) {          // a type dropped from the palette
            var type = event.item.dataset.type;
            event.item.remove();
            post({op: "add", type: type, section: list.dataset.section,
                  index: String(event.newIndex)});
          },
          onEnd: function (event) {          // a field moved (the target list posts)
            if (!event.item.dataset.key) { return; }
            if (event.from === event.to && event.oldIndex === event.newIndex) { return; }
            post({op: "move", key: event.item.dataset.key, section: event.to.dataset.section,
                  index: String(event.newIndex), field: event.item.dataset.key});
          }
        });
      });
    }
    var search = root.querySelector("[data-palette-search]");
    if (search && once(search)) {
      search.addEventListener("input", function () {
        var words = search.value.trim().toLowerCase();
        root.querySelectorAll("[data-palette] li").forEach(function (item) {
          item.hidden = words !== "" && item.dataset.names.indexOf(words) === -1;
        });
      });
    }
    root.dataset.bound = "1";
  }

  document.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey) || !builder()) { return; }
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
    var key = event.key.toLowerCase();
    if (typing || (key !== "z" && key !== "y")) { return; }
    var redo = key === "y" || event.shiftKey;
    var button = builder().querySelector(redo ? "[data-redo]" : "[data-undo]");
    if (button && !button.disabled) {
      event.preventDefault();
      button.click();
    }
  });

  document.addEventListener("htmx:load", function () { bind(builder()); });
  document.addEventListener("DOMContentLoaded", function () { bind(builder()); });
})();
