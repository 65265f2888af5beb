// The desk's own script: repeatable rows of the task forms, and the inbox's conditional
// refresh. Plain JavaScript with no dependencies; the pages work without it except for
// adding and removing rows.
(function () {
  "use strict";

  // Renumber the visible rows of a list ("Row 1", "Row 2", ...).
  function renumber(list) {
    list.querySelectorAll(":scope > .row-list > .row .row-no").forEach(function (el, i) {
      el.textContent = String(i + 1);
    });
  }

  // A new row from the list's <template>: its names and ids take the next free index, so
  // the server reads `lines.7.item` whatever rows were removed before.
  function addRow(list) {
    var template = list.querySelector(":scope > template");
    var next = Number(list.dataset.next || "0");
    list.dataset.next = String(next + 1);
    var html = template.innerHTML.split("__i__").join(String(next));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.firstElementChild;
    list.querySelector(":scope > .row-list").appendChild(row);
    renumber(list);
    var first = row.querySelector("input, select, textarea");
    if (first) { first.focus(); }
  }

  function removeRow(button) {
    var row = button.closest(".row");
    var list = row.closest("[data-rows]");
    var add = list.querySelector(":scope > [data-add-row]");
    row.remove();
    renumber(list);
    if (add) { add.focus(); }  // keep the keyboard user in the list
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    var add = target.closest("[data-add-row]");
    if (add) { addRow(add.closest("[data-rows]")); return; }
    var remove = target.closest("[data-remove-row]");
    if (remove) { removeRow(remove); }
  });

  // The inbox's rows are polled with the ETag of what is shown; the server answers 204
  // (htmx keeps the rows) when nothing changed.
  document.addEventListener("htmx:configRequest", function (event) {
    var etag = event.detail.elt && event.detail.elt.getAttribute("data-etag");
    if (etag) { event.detail.headers["If-None-Match"] = etag; }
  });
})();
