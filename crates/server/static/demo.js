// The demo customer app's front end: the guide's connectHris(), with Plugboard's SDK loaded
// from Plugboard (script tag), and live lists of what its back end stored and received.
(function () {
  "use strict";
  var status = document.getElementById("status");

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  async function connect(category) {
    status.textContent = "Creating a link…";
    var init = await post("/integrations/kombo/init", { category: category });
    var created = await init.json();
    if (!init.ok) {
      status.textContent = "Could not create a link: " + created.error;
      return;
    }
    status.textContent = "";
    try {
      var token = await PlugboardConnect.showConnect(created.link);
      var activated = await post("/integrations/kombo/activate", { token: token });
      status.textContent = activated.ok ? "Connected." : "Activation failed: " + (await activated.json()).error;
    } catch (error) {
      status.textContent = error.name === "ConnectCancelledError" ? "Cancelled." : error.message;
    }
    refresh();
  }

  function item(parts) {
    var li = document.createElement("li");
    parts.forEach(function (part) {
      var span = document.createElement(part.code ? "code" : "span");
      span.textContent = part.text;
      if (part.className) span.className = part.className;
      li.append(span, " ");
    });
    return li;
  }

  function show(list, entries, render) {
    var element = document.getElementById(list);
    if (!entries.length) return;
    element.replaceChildren.apply(element, entries.map(render));
  }

  async function refresh() {
    var response = await fetch("/demo/state");
    if (!response.ok) return;
    var state = await response.json();
    show("integrations", state.integrations, function (integration) {
      return item([
        { text: integration.tool + " for customer " + integration.origin_id },
        { text: integration.id, code: true },
      ]);
    });
    show("webhooks", state.webhooks, function (webhook) {
      var data = webhook.data || {};
      return item([
        { text: webhook.type },
        { text: data.id || data.integration_id || data.integration_tool || "", code: true },
        webhook.verified
          ? { text: "signature verified", className: "ok" }
          : { text: "signature NOT verified", className: "bad" },
      ]);
    });
  }

  document.querySelectorAll("[data-category]").forEach(function (button) {
    button.addEventListener("click", function () {
      connect(button.getAttribute("data-category"));
    });
  });
  setInterval(refresh, 1000);
  refresh();
})();
