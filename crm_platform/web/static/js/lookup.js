// Lookup pickers on an entry page. The renderer writes a lookup field as a number input
// holding the id (it works without JavaScript); this turns it into a search box and a list
// of matching records — searched on the server, so the reader only ever sees records
// they may read — and keeps the chosen id in the original input.
(function () {
  "use strict";

  function pickUrl(form) {
    var path = window.location.pathname.split("/");  // /apps/<app>/<form>/...
    return "/apps/" + path[2] + "/" + form + "/pick";
  }

  function load(url, select, then) {
    fetch(url, {credentials: "same-origin"}).then(function (response) {
      return response.ok ? response.text() : "";
    }).then(function (html) {
      select.innerHTML = html;
      select.hidden = select.options.length === 0;
      if (then) { then(); }
    });
  }

  function enhance(input) {
    if (input.dataset.picker) { return; }
    input.dataset.picker = "1";
    var url = pickUrl(input.dataset.form);
    var box = document.createElement("input");
    box.type = "search";
    box.className = "lookup-search";
    var name = input.labels[0] ? input.labels[0].textContent.trim() : "";
    var select = document.createElement("select");
    select.size = 5;
    select.hidden = true;
    select.className = "lookup-choices";
    select.setAttribute("aria-label", name);
    input.hidden = true;
    input.insertAdjacentElement("afterend", select);
    input.insertAdjacentElement("afterend", box);
    var label = input.labels[0];
    if (label) {  // the label now names the search box
      box.id = input.id + "-search";
      label.htmlFor = box.id;
    }
    if (input.value) {
      load(url + "?id=" + encodeURIComponent(input.value), select, function () {
        if (select.options[0]) { box.value = select.options[0].textContent; }
        select.hidden = true;
      });
    }
    var timer = null;
    box.addEventListener("input", function () {
      clearTimeout(timer);
      if (!box.value.trim()) { input.value = ""; select.hidden = true; return; }
      timer = setTimeout(function () {
        load(url + "?q=" + encodeURIComponent(box.value.trim()), select);
      }, 250);
    });
    function choose() {
      var option = select.options[select.selectedIndex];
      if (!option) { return; }
      input.value = option.value;
      box.value = option.textContent;
      select.hidden = true;
      input.dispatchEvent(new Event("change", {bubbles: true}));
      box.focus();
    }
    select.addEventListener("click", choose);
    select.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); choose(); }
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && !select.hidden) { event.preventDefault(); select.focus(); select.selectedIndex = 0; }
    });
  }

  function init(root) {
    (root.querySelectorAll ? root : document).querySelectorAll('.loom-lookup input[data-form]').forEach(enhance);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt); });
})();
