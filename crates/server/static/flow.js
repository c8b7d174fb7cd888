// The hosted flow's only script: the iframe protocol of Kombo's SDK, plus small conveniences.
// Every page works without it, except talking to the parent window.
(function () {
  "use strict";
  var embedded = window.parent !== window;
  var root = document.documentElement;
  if (!embedded) root.classList.add("standalone");

  // Messages go only to a parent the server allowed to frame this page (data-parents, from
  // frame-ancestors), never to "*" unless any site may frame it. The SDKs send no handshake, so
  // the parent's origin comes from the browser: location.ancestorOrigins (Chromium, Safari),
  // else the referrer of the flow's first page, kept for the pages after it (Firefox).
  var parents = (root.getAttribute("data-parents") || "").split(" ").filter(Boolean);
  var KEPT = "plugboard-parent-origin";

  function allowed(origin) {
    if (!origin || origin === "null") return false;
    return parents.some(function (source) {
      if (source === "*" || source === origin) return true;
      if (/^[a-z][a-z0-9+.-]*:$/i.test(source)) return origin.indexOf(source + "//") === 0;
      var wildcard = /^([a-z][a-z0-9+.-]*:\/\/)\*(\.[^/]+)$/i.exec(source);
      if (!wildcard || origin.indexOf(wildcard[1]) !== 0) return false;
      var host = origin.slice(wildcard[1].length);
      return host.length > wildcard[2].length && host.slice(-wildcard[2].length) === wildcard[2];
    });
  }

  function kept(value) {
    try {
      if (value) window.sessionStorage.setItem(KEPT, value);
      return window.sessionStorage.getItem(KEPT);
    } catch (error) {
      return null; // storage can be blocked in a third-party frame
    }
  }

  function parentOrigin() {
    var ancestors = window.location.ancestorOrigins;
    if (ancestors && ancestors.length) return ancestors[0];
    var referrer = null;
    try {
      referrer = document.referrer ? new URL(document.referrer).origin : null;
    } catch (error) {
      referrer = null;
    }
    // After the first page the referrer is the flow's own previous page.
    var previous = kept();
    if (referrer && (referrer !== window.location.origin || !previous)) return referrer;
    return previous;
  }

  var target = null;
  if (embedded) {
    var origin = parentOrigin();
    if (allowed(origin)) {
      target = origin;
      kept(origin);
    }
    else if (parents.indexOf("*") !== -1) target = "*";
  }

  function post(message) {
    if (target) window.parent.postMessage(message, target);
  }

  // The activation token shown for a development link opened on its own is for a person, not
  // for a page that frames the flow.
  if (embedded) {
    var shown = document.querySelector("[data-standalone-token]");
    if (shown) shown.remove();
  }

  // The flow's own events, for the parent's onEvent (Plugboard's SDK). Kombo's SDK ignores
  // message types it does not know, so these are safe to send to it too.
  function notify(name, details) {
    details.name = name;
    post({ type: "event", data: details });
  }

  function finish(done) {
    post({ type: "success", data: { activation_token: done.getAttribute("data-activation-token") } });
    if (!embedded) done.hidden = true;
  }

  // Leaving the dialog. Once connected, leaving by the close button or Escape still hands over
  // the activation token: the integration exists, and a "close" would lose it for the operator.
  function close() {
    if (!embedded) return;
    var done = document.querySelector("[data-done]");
    if (done) finish(done);
    else post({ type: "close" });
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("[data-close]")) {
      event.preventDefault();
      close();
      return;
    }
    var picked = target.closest("a[data-tool]");
    if (picked) notify("tool-selected", { tool: picked.getAttribute("data-tool") });
    var done = target.closest("[data-done]");
    if (done) {
      event.preventDefault();
      finish(done);
    }
  });

  // The dialog is modal: Tab and Shift+Tab cycle through its controls instead of leaving the
  // iframe for the host page hidden behind it.
  var dialog = document.querySelector(".dialog");
  if (dialog) {
    var tool = dialog.getAttribute("data-tool");
    notify("step", { step: dialog.getAttribute("data-page"), tool: tool });
    var failed = document.querySelector("[data-failure]");
    if (failed) notify("verification-failed", { tool: tool, reason: failed.getAttribute("data-failure") });
  }
  function tabbable() {
    if (!dialog) return [];
    var candidates = dialog.querySelectorAll("a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select, textarea, [tabindex]:not([tabindex='-1'])");
    return Array.prototype.filter.call(candidates, function (element) {
      return element.getClientRects().length > 0 && getComputedStyle(element).visibility !== "hidden";
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      if (embedded) event.preventDefault();
      close();
      return;
    }
    if (event.key !== "Tab" || !embedded) return;
    var controls = tabbable();
    if (!controls.length) return;
    var first = controls[0];
    var last = controls[controls.length - 1];
    var active = document.activeElement;
    if (event.shiftKey && (active === first || active === document.body)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  });

  // Move focus to the page's heading (or its error) so screen readers announce the new step.
  var focus = document.querySelector("[data-focus]");
  if (focus) focus.focus();

  var search = document.querySelector("[data-search]");
  if (search) {
    var items = Array.prototype.slice.call(document.querySelectorAll("#tools li"));
    var empty = document.querySelector("[data-empty]");
    // The "no match" message lives in a status region that stays in place, so screen readers
    // announce it when its text appears rather than when an element is unhidden.
    var emptyText = empty.textContent;
    empty.textContent = "";
    empty.hidden = false;
    search.addEventListener("input", function () {
      var query = search.value.trim().toLowerCase();
      var shown = 0;
      items.forEach(function (item) {
        var match = item.getAttribute("data-name").indexOf(query) !== -1;
        item.hidden = !match;
        if (match) shown += 1;
      });
      empty.textContent = shown === 0 ? emptyText : "";
    });
  }

  // Signing in to an OAuth tool. The vendor's page cannot be framed, so inside a frame the
  // sign-in opens in a popup, opened at once on the click (Safari blocks a popup opened later).
  // The popup tells this page "done" or "failed" by a message from Plugboard's own origin;
  // as the popup can lose its opener (a vendor page that isolates itself), this page also asks
  // the server how the attempt stands. Outside a frame, the link simply leaves for the vendor.
  var BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  function attemptId() {
    var bytes = new Uint8Array(24);
    window.crypto.getRandomValues(bytes);
    var id = "";
    for (var i = 0; i < bytes.length; i += 1) id += BASE58.charAt(bytes[i] % 58);
    return id;
  }

  function ask(url, then) {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { then(body && body.outcome); }, function () { then(null); });
  }

  // Goes to `finish` once the attempt behind `status` has an outcome, asking every 2 s for up
  // to the attempt's 10 minutes.
  function whenEnded(status, finish) {
    var left = 300;
    var timer = window.setInterval(function () {
      left -= 1;
      if (left < 0) { window.clearInterval(timer); return; }
      ask(status, function (outcome) {
        if (outcome) { window.clearInterval(timer); window.location.assign(finish); }
      });
    }, 2000);
  }

  function signIn(trigger, url) {
    var attempt = attemptId();
    var start = new URL(url, window.location.href);
    start.searchParams.set("attempt", attempt);
    start.searchParams.set("mode", "popup");
    var status = trigger.getAttribute("data-oauth-status") + "&attempt=" + attempt;
    var finish = trigger.getAttribute("data-oauth-finish") + "&attempt=" + attempt;
    var popup = window.open(start.toString(), "plugboard-signin-" + attempt, "popup=yes,width=520,height=720");
    if (!popup) {
      window.location.assign(finish + "&gave_up=blocked");
      return;
    }
    var waiting = document.querySelector("[data-oauth-waiting]");
    if (waiting) waiting.textContent = waiting.getAttribute("data-oauth-waiting");
    var ended = false;
    function go(extra) {
      if (ended) return;
      ended = true;
      window.location.assign(finish + (extra || ""));
    }
    window.addEventListener("message", function (event) {
      var data = event.data;
      if (event.source !== popup || event.origin !== window.location.origin || !data || data.type !== "plugboard:signin") return;
      if (data.attempt === attempt) go();
    });
    whenEnded(status, finish);
    // A popup that stays closed for 1.5 s without an outcome was closed by the end user (or
    // isolated itself: the next page keeps waiting for the outcome in case).
    var closedFor = 0;
    var watch = window.setInterval(function () {
      if (ended) { window.clearInterval(watch); return; }
      if (!popup.closed) { closedFor = 0; return; }
      closedFor += 1;
      if (closedFor < 3) return;
      window.clearInterval(watch);
      ask(status, function (outcome) { go(outcome ? "" : "&gave_up=closed"); });
    }, 500);
  }

  if (embedded) {
    document.addEventListener("click", function (event) {
      var link = event.target instanceof Element ? event.target.closest("a[data-oauth]") : null;
      if (!link) return;
      event.preventDefault();
      signIn(link, link.getAttribute("href"));
    });
  }

  var signinForm = document.querySelector("form[data-oauth]");
  if (signinForm) {
    signinForm.addEventListener("submit", function (event) {
      var inputs = Array.prototype.filter.call(signinForm.elements, function (input) {
        return input.willValidate && input.id;
      });
      var invalid = inputs.filter(function (input) {
        var valid = input.checkValidity();
        var error = document.getElementById(input.id + "-error");
        if (error) error.textContent = valid ? "" : (input.validity.valueMissing ? input.getAttribute("data-missing") : input.getAttribute("data-mismatch"));
        if (valid) input.removeAttribute("aria-invalid");
        else input.setAttribute("aria-invalid", "true");
        return !valid;
      });
      if (invalid.length) {
        event.preventDefault();
        invalid[0].focus();
        return;
      }
      if (!embedded) return;
      event.preventDefault();
      var query = new URLSearchParams(new FormData(signinForm)).toString();
      signIn(signinForm, signinForm.getAttribute("action") + "?" + query);
    });
  }

  // A page waiting for an attempt's outcome (the callback is on its way, or the popup looked
  // closed).
  var pending = document.querySelector("[data-oauth-pending]");
  if (pending) whenEnded(pending.getAttribute("data-oauth-status"), pending.getAttribute("data-oauth-finish"));

  var signinFailure = document.querySelector("[data-signin-failure]");
  if (signinFailure && dialog) notify("signin-failed", { tool: dialog.getAttribute("data-tool"), reason: signinFailure.getAttribute("data-signin-failure") });

  // The popup's last page: tell the flow page that opened it how the sign-in ended (never a
  // code or a token: only the attempt and "done" or another outcome), then close.
  var result = document.querySelector("[data-oauth-result]");
  if (result) {
    var message = { type: "plugboard:signin", attempt: result.getAttribute("data-attempt"), outcome: result.getAttribute("data-outcome") };
    try {
      if (window.opener) window.opener.postMessage(message, window.location.origin);
    } catch (error) {
      // The opener is gone or of another origin now: the flow page asks the server instead.
    }
    window.setTimeout(function () { window.close(); }, 500);
  }

  var form = document.querySelector("form[data-verify]");
  if (form) {
    var fields = Array.prototype.filter.call(form.elements, function (input) {
      return input.willValidate && input.id;
    });

    // Shows or clears one field's error; the messages come in the link's language.
    function check(input) {
      var error = document.getElementById(input.id + "-error");
      var wrapper = input.closest(".field");
      if (input.checkValidity()) {
        input.removeAttribute("aria-invalid");
        if (error) error.textContent = "";
        if (wrapper) wrapper.classList.remove("invalid");
        return true;
      }
      input.setAttribute("aria-invalid", "true");
      var message = input.validity.valueMissing ? input.getAttribute("data-missing") : input.getAttribute("data-mismatch");
      if (error) error.textContent = message || input.validationMessage;
      if (wrapper) wrapper.classList.add("invalid");
      return false;
    }

    // A field marked invalid is checked again as it is corrected, so its error goes away as
    // soon as it no longer applies.
    fields.forEach(function (input) {
      input.addEventListener("input", function () {
        if (input.getAttribute("aria-invalid") === "true") check(input);
      });
    });

    form.addEventListener("submit", function (event) {
      // Check in the browser first; the server checks again.
      var invalid = fields.filter(function (input) {
        return !check(input);
      });
      if (invalid.length) {
        event.preventDefault();
        invalid[0].focus();
        return;
      }
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      form.querySelector("[data-status]").textContent = form.getAttribute("data-verify");
    });

    // Coming back to this page from the browser's history restores it as it was left: busy.
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return;
      form.querySelector("button[type=submit]").disabled = false;
      form.querySelector("[data-status]").textContent = "";
    });
  }
})();
