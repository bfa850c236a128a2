// Prescreen: progressive enhancement only; every page works without this file.
(function () {
  // Keep expanded explanations (and groups the clinician closed) as they were when htmx swaps the results
  // panel. Reopening a trial's explanation loads its criteria again, for the new answers.
  var state = {};
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "results") {
      state = {};
      event.detail.target.querySelectorAll("details[id]").forEach(function (d) { state[d.id] = d.open; });
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    Object.keys(state).forEach(function (id) {
      var d = document.getElementById(id);
      if (d && d.open !== state[id]) { d.open = state[id]; }
    });
    state = {};
  });
  // A server-side error shown by a full page load goes away once the clinician edits that field;
  // live evaluation then reports the field's state in its note.
  document.addEventListener("input", function (event) {
    var wrapper = event.target.closest && event.target.closest(".question");
    if (!wrapper) { return; }
    wrapper.querySelectorAll(".is-invalid").forEach(function (el) { el.classList.remove("is-invalid"); });
    wrapper.querySelectorAll(".invalid-feedback").forEach(function (el) { el.remove(); });
  });
  // "Next best questions" links: move focus to the question's first input.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".next-questions a");
    if (!link) { return; }
    var target = document.querySelector(link.getAttribute("href"));
    var input = target && target.querySelector("input, select, textarea");
    if (input) { event.preventDefault(); target.scrollIntoView({block: "center"}); input.focus(); }
  });
  // New screening: typing in a way of choosing trials chooses that way; Enter in the search searches (htmx)
  // rather than starting the screening.
  document.addEventListener("focusin", function (event) {
    var box = event.target.closest && event.target.closest("[data-scope]");
    var radio = box && document.querySelector('input[name="scope"][value="' + box.dataset.scope + '"]');
    if (radio && !radio.checked) { radio.checked = true; radio.dispatchEvent(new Event("change", {bubbles: true})); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !event.target.matches || !event.target.matches("#id_find")) { return; }
    var button = document.querySelector('#new-screening button[name="search"]');
    if (button) { event.preventDefault(); button.click(); }
  });
  // Questions no undetermined trial needs are dimmed: their codes come in #idle-questions with every evaluation.
  function markIdle() {
    var holder = document.getElementById("idle-questions");
    if (!holder) { return; }
    var idle = {};
    (holder.getAttribute("data-codes") || "").split(" ").forEach(function (code) { if (code) { idle["q-" + code] = true; } });
    document.querySelectorAll(".question[id^='q-']").forEach(function (q) { q.classList.toggle("q-idle", !!idle[q.id]); });
  }
  markIdle();
  document.addEventListener("htmx:oobAfterSwap", markIdle);
  document.addEventListener("htmx:afterSettle", markIdle);
  // Unsaved answers: leaving the questionnaire (a link, reload, closing the tab) asks first. Answering makes the form
  // dirty; live evaluation (htmx) saves nothing, so it leaves it dirty; submitting the questionnaire itself (Save, or
  // Update results without JavaScript) carries the answers, so it does not ask. A page shown with answers not saved
  // (after Update results, a refused save or a pre-fill) is dirty from the start: data-unsaved.
  var questionnaire = document.getElementById("questionnaire");
  if (questionnaire) {
    var dirty = questionnaire.hasAttribute("data-unsaved");
    var answered = function (event) {
      // The panel's search box is in the form but is not an answer.
      if (!(event.target.closest && event.target.closest(".panel-search"))) { dirty = true; }
    };
    questionnaire.addEventListener("input", answered);
    questionnaire.addEventListener("change", answered);
    questionnaire.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });
  }
  // The print summary's "Print" button (no onclick attribute under the Content-Security-Policy).
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) { window.print(); }
  });
})();
