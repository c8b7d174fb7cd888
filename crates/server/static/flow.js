// The hosted flow's only script: the iframe protocol of Kombo's SDK, plus small conveniences.
// Every page works without it, except talking to the parent window.
(function () {
  "use strict";
  var embedded = window.parent !== window;
  var root = document.documentElement;
  if (!embedded) root.classList.add("standalone");

  // The parent's origin is unknown (the SDK sends no handshake), so "*" is required; the
  // activation token is useless without the operator's API key.
  function post(message) {
    if (embedded) window.parent.postMessage(message, "*");
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("[data-close]")) {
      event.preventDefault();
      post({ type: "close" });
    }
    var done = target.closest("[data-done]");
    if (done) {
      event.preventDefault();
      post({ type: "success", data: { activation_token: done.getAttribute("data-activation-token") } });
      if (!embedded) done.hidden = true;
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") post({ type: "close" });
  });

  // Move focus to the page's heading (or its error) so screen readers announce the new step.
  var focus = document.querySelector("[data-focus]");
  if (focus) focus.focus();

  var search = document.querySelector("[data-search]");
  if (search) {
    var items = Array.prototype.slice.call(document.querySelectorAll("#tools li"));
    var empty = document.querySelector("[data-empty]");
    search.addEventListener("input", function () {
      var query = search.value.trim().toLowerCase();
      var shown = 0;
      items.forEach(function (item) {
        var match = item.getAttribute("data-name").indexOf(query) !== -1;
        item.hidden = !match;
        if (match) shown += 1;
      });
      empty.hidden = shown !== 0;
    });
  }

  var form = document.querySelector("form[data-verify]");
  if (form) {
    form.addEventListener("submit", function (event) {
      // Check in the browser first; the server checks again.
      var invalid = Array.prototype.filter.call(form.elements, function (input) {
        return input.willValidate && !input.checkValidity();
      });
      if (invalid.length) {
        event.preventDefault();
        invalid.forEach(function (input) {
          input.setAttribute("aria-invalid", "true");
          var error = document.getElementById(input.id + "-error");
          var message = input.validity.valueMissing ? input.getAttribute("data-missing") : input.getAttribute("data-mismatch");
          if (error) error.textContent = message || input.validationMessage;
        });
        invalid[0].focus();
        return;
      }
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      form.querySelector("[data-status]").textContent = form.getAttribute("data-verify");
    });
  }
})();
