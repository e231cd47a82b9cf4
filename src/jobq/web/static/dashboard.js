// jobq dashboard: a few conveniences on top of pages that work without any script.
// Selecting rows, offering "all N matching", keeping filter URLs short. Nothing here is needed to act:
// every action is a plain form whose confirmation page states the count.
"use strict";

(function () {
  function updateSelection(form) {
    var boxes = form.querySelectorAll("input[name=id]");
    var checked = form.querySelectorAll("input[name=id]:checked");
    var all = form.querySelector("input[name=scope][value=all]");
    var some = form.querySelector("input[name=scope][value=ids]");
    var pageBox = form.querySelector("[data-select-page]");
    var banner = form.querySelector("[data-select-all-banner]");
    var counter = form.querySelector("[data-selected-count]");
    boxes.forEach(function (box) {
      var row = box.closest("tr");
      if (row) { row.classList.toggle("selected", box.checked); }
    });
    if (counter) { counter.textContent = String(checked.length); }
    if (pageBox) {
      pageBox.checked = boxes.length > 0 && checked.length === boxes.length;
      pageBox.indeterminate = checked.length > 0 && checked.length < boxes.length;
    }
    if (banner) {
      var whole = boxes.length > 0 && checked.length === boxes.length;
      banner.classList.toggle("hidden", !whole || (all && all.checked));
    }
    if (checked.length > 0 && some && all && !all.checked) { some.checked = true; }
    var ready = (all && all.checked) || checked.length > 0;
    form.querySelectorAll("[data-needs-selection]").forEach(function (button) { button.disabled = !ready; });
  }

  document.querySelectorAll("form[data-selection]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target.matches("[data-select-page]")) {
        form.querySelectorAll("input[name=id]").forEach(function (box) { box.checked = target.checked; });
      }
      updateSelection(form);
    });
    var selectAll = form.querySelector("[data-select-all]");
    if (selectAll) {
      selectAll.addEventListener("click", function () {
        var all = form.querySelector("input[name=scope][value=all]");
        if (all) { all.checked = true; }
        updateSelection(form);
      });
    }
    updateSelection(form);
  });

  // Filter forms: leave empty fields out of the URL, and apply a choice as soon as it is made.
  document.querySelectorAll("form[data-filters]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input, select").forEach(function (field) {
        if (field.name && !field.value) { field.disabled = true; }
      });
    });
    form.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { form.requestSubmit(); });
    });
  });
})();
