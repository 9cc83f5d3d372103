// The web console's only script: live parts of a page refresh themselves, and long lists can be filtered.
// Everything works without it except the live refresh (reload the page instead).
(function () {
  "use strict";

  // An element with data-live="URL" is replaced by the HTML at URL every data-every seconds, except while the
  // user is working inside it (a focused field or button keeps its place and its text).
  function startLive(element) {
    var every = Math.max(1, Number(element.getAttribute("data-every") || 3)) * 1000;
    var url = element.getAttribute("data-live");
    function refresh() {
      if (document.hidden || element.contains(document.activeElement)) {
        window.setTimeout(refresh, every);
        return;
      }
      fetch(url, { headers: { "x-requested-with": "fetch" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (response.status === 401) { window.location.reload(); return null; }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html !== null && !element.contains(document.activeElement)) { element.innerHTML = html; }
        })
        .catch(function () { /* offline for a moment: try again on the next round */ })
        .finally(function () { window.setTimeout(refresh, every); });
    }
    window.setTimeout(refresh, every);
  }

  // An input with data-filter="ID" hides the labels inside #ID whose text does not contain what was typed.
  function startFilter(input) {
    var list = document.getElementById(input.getAttribute("data-filter"));
    if (!list) { return; }
    input.addEventListener("input", function () {
      var wanted = input.value.trim().toLocaleLowerCase();
      list.querySelectorAll("label").forEach(function (label) {
        label.hidden = wanted !== "" && label.textContent.toLocaleLowerCase().indexOf(wanted) === -1;
      });
    });
  }

  document.querySelectorAll("[data-live]").forEach(startLive);
  document.querySelectorAll("[data-filter]").forEach(startFilter);
})();
