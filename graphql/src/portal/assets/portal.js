// Mina sidor, enhanced. Every page works without this script; it adds the plus and minus
// buttons (S9), moves focus to an error summary, and keeps the case status current while a
// cases page is open (server-sent events from the caseStatusChanged subscription), announcing
// each change in the live region.
(function () {
  "use strict";

  document.querySelectorAll("button.step").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("aria-controls"));
    if (!input) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var step = Number(button.getAttribute("data-step"));
      var min = Number(input.min || 1);
      var max = Number(input.max || 99);
      var next = Math.min(max, Math.max(min, (Number(input.value) || min) + step));
      input.value = String(next);
      announce(input.labels && input.labels[0] ? input.labels[0].textContent.trim() + ": " + next : String(next));
    });
  });

  // The editor's line numbers follow the text as it is typed and scrolled.
  document.querySelectorAll(".editor").forEach(function (editor) {
    var gutter = editor.querySelector(".gutter");
    var text = editor.querySelector("textarea");
    if (!gutter || !text) return;
    var renumber = function () {
      var lines = text.value.split("\n").length;
      var numbers = [];
      for (var i = 1; i <= lines; i += 1) numbers.push(i);
      gutter.textContent = numbers.join("\n") + "\n";
    };
    text.addEventListener("input", renumber);
    text.addEventListener("scroll", function () { gutter.scrollTop = text.scrollTop; });
  });

  var summary = document.querySelector("[data-autofocus]");
  if (summary) summary.focus();

  function announce(text) {
    var live = document.getElementById("live");
    if (!live) return;
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  if (document.querySelector("[data-live-cases]") && "EventSource" in window) {
    var source = new EventSource("/arenden/live");
    source.addEventListener("status", function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      var changed = false;
      document.querySelectorAll("[data-case-status]").forEach(function (badge) {
        if (badge.getAttribute("data-case-status") !== event.caseNumber) return;
        badge.textContent = event.label;
        badge.className = "status status-" + String(event.status).toLowerCase();
        changed = true;
      });
      if (changed) announce(event.announcement);
    });
  }
})();
