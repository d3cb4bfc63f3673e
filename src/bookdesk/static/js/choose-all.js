// "Choose all" for lists of checkboxes (the approvals inbox). Added by script because
// without script it could do nothing; every box still works on its own.
"use strict";

(function () {
  document.querySelectorAll("[data-choose-all]").forEach(function (cell) {
    const form = cell.closest("form");
    const name = cell.getAttribute("data-choose-all");
    const boxes = form.querySelectorAll('input[type="checkbox"][name="' + name + '"]');
    const all = document.createElement("input");
    all.type = "checkbox";
    all.id = "choose-all-" + name;
    const label = document.createElement("label");
    label.htmlFor = all.id;
    label.className = "visually-hidden";
    label.textContent = "Choose all";
    all.addEventListener("change", function () {
      boxes.forEach(function (box) {
        box.checked = all.checked;
      });
    });
    cell.replaceChildren(all, label);
  });
})();
