// The dashboard works without this script. It adds: copy buttons (data-copy="<input or element
// id>"), and a delete button that stays disabled until the confirmation field holds the
// expected text (data-must-equal); the server checks the text again.
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  const text = "value" in source ? source.value : source.textContent;
  const done = () => {
    const label = button.textContent;
    button.textContent = button.dataset.copied || "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => select(source));
  } else {
    select(source);
  }
});
function select(source) {
  if (source.select) { source.focus(); source.select(); }
}
for (const input of document.querySelectorAll("[data-must-equal]")) {
  const submit = input.form && input.form.querySelector("button[type=submit]");
  if (!submit) continue;
  const sync = () => { submit.disabled = input.value.trim() !== input.dataset.mustEqual.trim(); };
  input.addEventListener("input", sync);
  sync();
}
