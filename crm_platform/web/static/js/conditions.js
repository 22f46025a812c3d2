// Conditions on an entry page, as the server evaluates them: after each change the form
// is posted to its evaluate URL (htmx, into #entry-state), and the answer says which
// fields are hidden, which are required and what the formulas give. Only those marks and
// the computed outputs are updated here — inputs are never replaced, so nothing a person
// types while the answer is on its way is lost.
(function () {
  "use strict";

  function apply(state) {
    var form = document.querySelector('.loom-form[data-form="' + state.dataset.form + '"]');
    if (!form) { return; }
    var hidden = state.dataset.hidden ? state.dataset.hidden.split(" ") : [];
    var required = state.dataset.required ? state.dataset.required.split(" ") : [];
    form.querySelectorAll(".loom-field[data-key]").forEach(function (field) {
      var key = field.dataset.key;
      field.hidden = hidden.indexOf(key) !== -1;
      field.classList.toggle("is-required", required.indexOf(key) !== -1);
      field.querySelectorAll("input, select, textarea").forEach(function (control) {
        if (required.indexOf(key) !== -1) { control.setAttribute("aria-required", "true"); }
        else { control.removeAttribute("aria-required"); }
      });
    });
    state.querySelectorAll("output[data-for]").forEach(function (value) {
      var target = form.querySelector('.loom-field[data-key="' + value.dataset.for + '"] output');
      if (target) { target.textContent = value.textContent; }
    });
  }

  // Saving straight after a change: leaving the page would abort that change's evaluate
  // request (htmx reports it as an error), so the save waits for its answer first.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "entry" || !form.classList.contains("htmx-request")) { return; }
    event.preventDefault();
    var submitter = event.submitter;
    form.addEventListener("htmx:afterRequest", function () {
      form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
    }, { once: true });
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var state = event.detail.target.querySelector("[data-entry-state]");
    if (state) { apply(state); }
  });
})();
