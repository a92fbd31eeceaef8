// Small progressive enhancements; every page works without them.
document.documentElement.classList.add("js");

document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-autosubmit]");
  if (select) select.form.requestSubmit();
});

document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// Org chart: the first click loads the reports (htmx); later clicks fold and unfold them.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-toggle-tree]");
  if (!button) return;
  const list = button.closest(".node").querySelector(":scope > ul");
  if (button.dataset.loaded) {
    event.preventDefault();
    event.stopImmediatePropagation();
    list.hidden = !list.hidden;
    button.setAttribute("aria-expanded", String(!list.hidden));
  } else {
    button.dataset.loaded = "1";
    button.setAttribute("aria-expanded", "true");
  }
}, true);
