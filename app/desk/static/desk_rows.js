// Repeatable rows of the desk's action forms, with no framework: "add" copies the last row of
// a list with its index renumbered (names `lines.3.qty`, ids `f-lines-3-qty`) and its values
// cleared; "remove" takes a row away while another is left. The server reads the rows in order
// and skips blank ones, so gaps in the numbering do not matter.
(function () {
  "use strict";

  function renumber(row, list, from, to) {
    var dotted = list + "." + from + ".";
    var dashed = list + "-" + from + "-";
    row.querySelectorAll("[name],[id],[for],[aria-describedby]").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) {
          el.setAttribute(attr, value.split(dotted).join(list + "." + to + ".")
            .split(dashed).join(list + "-" + to + "-"));
        }
      });
      el.removeAttribute("aria-describedby");
      el.removeAttribute("aria-invalid");
    });
    row.setAttribute("data-row", String(to));
  }

  function add(button) {
    var list = button.getAttribute("data-add-row");
    var box = button.closest("[data-rows]");
    var existing = box.querySelectorAll(":scope > [data-row]");
    var last = existing[existing.length - 1];
    var next = 0;
    existing.forEach(function (row) {
      next = Math.max(next, Number(row.getAttribute("data-row")) + 1);
    });
    var copy = last.cloneNode(true);
    renumber(copy, list, last.getAttribute("data-row"), next);
    copy.querySelectorAll(".problem").forEach(function (p) { p.remove(); });
    copy.querySelectorAll("input,textarea").forEach(function (el) {
      if (el.type === "checkbox") { el.checked = false; } else { el.value = ""; }
    });
    copy.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; });
    var number = copy.querySelector("[data-row-number]");
    if (number) { number.textContent = String(existing.length + 1); }
    last.after(copy);
    var first = copy.querySelector("input,select,textarea");
    if (first) { first.focus(); }
  }

  function remove(button) {
    var row = button.closest("[data-row]");
    var box = row.parentElement;
    if (box.querySelectorAll(":scope > [data-row]").length > 1) {
      row.remove();
      box.querySelectorAll(":scope > [data-row] [data-row-number]").forEach(function (n, i) {
        n.textContent = String(i + 1);
      });
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-add-row],[data-remove-row]");
    if (!target) { return; }
    event.preventDefault();
    if (target.hasAttribute("data-add-row")) { add(target); } else { remove(target); }
  });
}());
