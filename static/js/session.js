// Idle sign-out warning: SESSION_WARNING_SECONDS before the server ends an idle session (prescreen/sessions.py),
// offer "Stay signed in". Every page works without this file: the server signs the session out either way.
(function () {
  var box = document.getElementById("session-warning");
  if (!box) { return; }
  var idle = Number(box.getAttribute("data-idle-seconds"));
  var warnBefore = Number(box.getAttribute("data-warn-seconds"));
  var url = box.getAttribute("data-url");
  var timer = null;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function ask(method) {
    return fetch(url, {method: method, credentials: "same-origin",
                       headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : {remaining: 0}; })
      .catch(function () { return {remaining: warnBefore}; });
  }
  // Load the page again: the server shows it, or (signed out) the login page that comes back here.
  function reload() { window.location.assign(window.location.href); }
  function schedule(remaining) {
    clearTimeout(timer);
    box.hidden = true;
    timer = setTimeout(check, Math.max(remaining - warnBefore, 0) * 1000);
  }
  function check() {
    // Another tab may have kept the session alive: ask the server (this question is not activity).
    ask("GET").then(function (data) {
      if (data.remaining <= 0) { reload(); return; }
      if (data.remaining > warnBefore + 5) { schedule(data.remaining); return; }
      box.hidden = false;
      box.querySelector("[data-stay-signed-in]").focus();
      clearTimeout(timer);
      timer = setTimeout(reload, data.remaining * 1000 + 1000);
    });
  }
  box.querySelector("[data-stay-signed-in]").addEventListener("click", function () {
    ask("POST").then(function (data) { if (data.remaining > 0) { schedule(data.remaining); } else { reload(); } });
  });
  document.addEventListener("htmx:afterRequest", function () { schedule(idle); });
  schedule(idle);
})();
