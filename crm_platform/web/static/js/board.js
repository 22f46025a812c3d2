// Dragging cards on a kanban board (SortableJS). A drop into another column posts the move
// to the server; the answer is the board again (fresh counts, totals and card versions) or
// the reason it was refused, in the user's language — then the card goes back where it
// was. Every card also has a "Move to …" menu of plain forms: the same move without a drag.
(function () {
  "use strict";

  function status(text) {
    var box = document.getElementById("board-status");
    if (!box) { return; }
    box.textContent = text || "";
    box.hidden = !text;
  }

  function init(root) {
    var board = root.id === "board" ? root : root.querySelector && root.querySelector("#board");
    if (!board || typeof Sortable === "undefined") { return; }
    board.querySelectorAll("ol.cards").forEach(function (list) {
      Sortable.create(list, {
        group: "board", animation: 120, draggable: ".card-item", filter: "details, summary, form",
        preventOnFilter: false,
        onEnd: function (event) {
          if (event.from === event.to) { return; }
          var card = event.item;
          var body = new FormData();
          body.append("csrf_token", board.dataset.csrf);
          body.append("field", board.dataset.field);
          body.append("value", event.to.dataset.value);
          body.append("version", card.dataset.version);
          status("");
          fetch(card.dataset.move + window.location.search, {
            method: "POST", body: body, credentials: "same-origin",
            headers: {"X-Loom-Drag": "1", "X-CSRFToken": board.dataset.csrf}
          }).then(function (response) {
            return response.text().then(function (html) { return {ok: response.ok, html: html}; });
          }).then(function (answer) {
            if (answer.ok) {
              var fresh = document.createElement("div");
              fresh.innerHTML = answer.html;
              var next = fresh.querySelector("#board");
              board.replaceWith(next);
              init(next);
              return;
            }
            event.from.insertBefore(card, event.from.children[event.oldIndex] || null);
            var holder = document.createElement("div");
            holder.innerHTML = answer.html;
            var said = holder.querySelector("[data-refused]");
            status(said ? said.textContent : answer.html);
          }).catch(function () {
            event.from.insertBefore(card, event.from.children[event.oldIndex] || null);
          });
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
