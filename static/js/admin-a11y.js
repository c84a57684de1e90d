/* Accessibility repairs to the Django admin's own markup (loaded by admin/base_site.html).
   Tabular inlines name their fields by the column header only, and a few wide regions scroll
   sideways without a keyboard stop: both are fixed here, once the page is parsed. */
(function () {
  "use strict";
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  var text = function (el) { return el.textContent.replace(/\s+/g, " ").trim(); };

  function nameInlineFields() {
    each(document.querySelectorAll(".tabular table"), function (table) {
      var headers = [];
      var head = table.tHead && table.tHead.rows[0];
      if (head) {
        each(head.cells, function (cell) {
          for (var i = 0; i < cell.colSpan; i++) { headers.push(text(cell)); }
        });
      }
      each(table.tBodies, function (body) {
        each(body.rows, function (row) {
          var column = 0;
          each(row.cells, function (cell) {
            each(cell.querySelectorAll("input:not([type=hidden]), select, textarea"), function (control) {
              var labelled = (control.labels && control.labels.length) ||
                control.hasAttribute("aria-label") || control.hasAttribute("aria-labelledby");
              if (!labelled) {
                control.setAttribute("aria-label", headers[column] || control.name.replace(/^.*-/, ""));
              }
            });
            column += cell.colSpan;
          });
        });
      });
    });
    var search = document.getElementById("searchbar");
    if (search && !search.hasAttribute("aria-label")) { search.setAttribute("aria-label", "Search"); }
  }

  function markScrollingRegions() {
    each(document.querySelectorAll(".inline-group, #changelist .results, .module"), function (region) {
      var style = getComputedStyle(region);
      var scrolls = /auto|scroll/.test(style.overflowX) && region.scrollWidth > region.clientWidth + 1;
      if (scrolls && !region.hasAttribute("tabindex")) {
        region.setAttribute("tabindex", "0");
        if (!region.hasAttribute("role")) { region.setAttribute("role", "region"); }
        if (!region.hasAttribute("aria-label") && !region.hasAttribute("aria-labelledby")) {
          var heading = region.querySelector("h2, caption");
          region.setAttribute("aria-label", (heading ? text(heading) : "Table") + " (scrolls sideways)");
        }
      }
    });
  }

  nameInlineFields();
  markScrollingRegions();
  var pending = false;
  window.addEventListener("resize", function () {
    if (pending) { return; }
    pending = true;
    requestAnimationFrame(function () { pending = false; markScrollingRegions(); });
  });
})();
