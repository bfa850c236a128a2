// Pre-fill from the record (screening/prefill.py): "Use record value" puts the record's value into the question in
// place and lets the live panel update, instead of sending the whole form (what the button does without this file).
(function () {
  function setValue(code, type, value, unit) {
    var form = document.getElementById("questionnaire");
    if (!form) { return null; }
    var changed = null;
    if (type === "number") {
      var number = form.elements[code + "_0"], units = form.elements[code + "_1"];
      if (!number) { return null; }
      number.value = value;
      if (units && unit) { units.value = unit; }
      changed = number;
    } else if (type === "boolean" || type === "multi") {
      var wanted = type === "multi" ? JSON.parse(value) : [value];
      form.querySelectorAll('input[name="' + code + '"]').forEach(function (input) {
        input.checked = wanted.indexOf(input.value) !== -1;
        if (input.checked || type === "multi") { changed = input; }
      });
    } else {
      var field = form.elements[code];
      if (!field) { return null; }
      field.value = value;
      changed = field;
    }
    return changed;
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.use-record");
    if (!button) { return; }
    var input = setValue(button.dataset.code, button.dataset.type, button.dataset.value, button.dataset.unit);
    if (!input) { return; }  // not found: let the button send the form
    event.preventDefault();
    // The question's own state (a server-side error) is cleared as if typed; the change updates the results.
    input.dispatchEvent(new Event("input", {bubbles: true}));
    input.dispatchEvent(new Event("change", {bubbles: true}));
    input.focus();
  });
  // Choosing a file is not an answer: it must not start a live evaluation of the questionnaire it belongs to.
  ["input", "change"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      if (event.target && event.target.id === "id_bundle") { event.stopPropagation(); }
    }, true);
  });
})();
