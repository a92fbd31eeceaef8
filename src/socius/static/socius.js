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

// Mentions: typing @ and a few letters in a [data-mentions] box suggests people (the directory API); choosing one
// inserts @[Name](id), which the server turns into a link and a notification.
let mentionQuery = 0;
document.addEventListener("input", async (event) => {
  const box = event.target.closest("textarea[data-mentions]");
  if (!box) return;
  const list = box.parentElement.querySelector(".mention-suggestions");
  const before = box.value.slice(0, box.selectionStart);
  const match = before.match(/(^|\s)@([^\s@[\]()]{1,30})$/u);
  if (!match) { list.hidden = true; return; }
  const asked = ++mentionQuery;
  const response = await fetch(`/api/v1/people?limit=6&q=${encodeURIComponent(match[2])}`,
                               { headers: { Accept: "application/json" } });
  if (!response.ok || asked !== mentionQuery) return;
  const { items } = await response.json();
  list.replaceChildren(...items.map((person) => {
    const option = document.createElement("li");
    option.setAttribute("role", "option");
    option.tabIndex = 0;
    option.textContent = person.display_name;
    option.dataset.id = person.id;
    return option;
  }));
  list.dataset.start = String(before.length - match[2].length - 1);
  list.hidden = items.length === 0;
});

function chooseMention(option) {
  const list = option.parentElement;
  const box = list.parentElement.querySelector("textarea[data-mentions]");
  const start = Number(list.dataset.start);
  const end = box.value.indexOf(" ", start) === -1 ? box.value.length : box.value.indexOf(" ", start);
  const insert = `@[${option.textContent.replace(/[[\]\n]/g, "")}](${option.dataset.id}) `;
  box.value = box.value.slice(0, start) + insert + box.value.slice(Math.min(end + 1, box.value.length));
  list.hidden = true;
  box.focus();
  box.selectionStart = box.selectionEnd = start + insert.length;
}

document.addEventListener("click", (event) => {
  const option = event.target.closest(".mention-suggestions li");
  if (option) chooseMention(option);
});

document.addEventListener("keydown", (event) => {
  const option = event.target.closest(".mention-suggestions li");
  if (option && event.key === "Enter") { event.preventDefault(); chooseMention(option); return; }
  const box = event.target.closest("textarea[data-mentions]");
  if (box && event.key === "ArrowDown") {
    const first = box.parentElement.querySelector(".mention-suggestions:not([hidden]) li");
    if (first) { event.preventDefault(); first.focus(); }
  }
});
