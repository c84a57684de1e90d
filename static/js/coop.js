/* The site's own behaviour, loaded by base.html. No inline handlers: the Content-Security-Policy
   allows no 'unsafe-inline', so buttons say what they do with data- attributes. */
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-print]");
  if (button) {
    event.preventDefault();
    window.print();
  }
});

(function () {
  "use strict";
  var narrow = window.matchMedia("(max-width: 600px)");
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  var text = function (el) { return el.textContent.replace(/\s+/g, " ").trim(); };
  /* The root itself when it matches (htmx swaps in a form or a table), and what it holds. */
  var within = function (root, selector) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    return root.matches && root.matches(selector) ? [root].concat(found) : found;
  };

  /* Tables: on a phone each row is a card and each cell shows its column's header, read from
     the <th> into data-label (the CSS writes it before the cell). The explicit roles keep the
     table a table for screen readers once the CSS makes its rows blocks. */
  /* The cell's content in one box, so the card shows label | value side by side however many
     elements (a link, a line break, a badge) the value holds. */
  function wrapValue(cell) {
    var first = cell.firstElementChild;
    if (first && first.classList.contains("cell-value") && first === cell.lastElementChild) { return; }
    var value = document.createElement("div");
    value.className = "cell-value";
    while (cell.firstChild) { value.appendChild(cell.firstChild); }
    cell.appendChild(value);
  }

  function labelTables(root) {
    each(within(root, "table.data"), function (table) {
      var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
      var headers = [];
      if (head) {
        each(head.cells, function (cell) {
          for (var i = 0; i < cell.colSpan; i++) { headers.push(i ? "" : text(cell)); }
        });
      }
      table.setAttribute("role", "table");
      each(table.querySelectorAll(":scope > thead, :scope > tbody, :scope > tfoot"), function (group) {
        group.setAttribute("role", "rowgroup");
      });
      each(table.rows, function (row) {
        var column = 0;
        var inHead = row.parentNode.tagName === "THEAD";
        row.setAttribute("role", "row");
        each(row.cells, function (cell) {
          if (cell.tagName === "TH") {
            cell.setAttribute("role", inHead || cell.getAttribute("scope") === "col" ? "columnheader" : "rowheader");
          } else {
            cell.setAttribute("role", "cell");
            if (!inHead && cell.colSpan === 1 && headers[column] && !cell.hasAttribute("data-label")) {
              cell.setAttribute("data-label", headers[column]);
            }
            if (cell.hasAttribute("data-label")) { wrapValue(cell); }
          }
          column += cell.colSpan;
        });
      });
      if (headers.length) { table.classList.add("is-labelled"); }
    });
  }

  /* A table wider than its column scrolls sideways in its wrap: make that wrap a labelled
     region a keyboard can focus and scroll (and no stop for the Tab key when it fits). */
  function markScrollingWraps(root) {
    each(within(root, ".table-wrap"), function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        var table = wrap.querySelector("table");
        var caption = table && table.caption;
        var section = wrap.closest("section, .card");
        var heading = section && section.querySelector("h2, h3");
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        if (!wrap.hasAttribute("aria-label")) {
          wrap.setAttribute("aria-label", text(caption || heading || { textContent: "Table" }) + " (scrolls sideways)");
        }
      } else if (wrap.getAttribute("role") === "region") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
    });
  }

  /* Filter forms fold behind a "Filters" button on a phone: open on wider screens. The state is
     kept across htmx's swaps (a directory search redraws its own form). */
  var foldOpen = {};
  function foldKey(form) { return form.getAttribute("action") || location.pathname; }
  function foldFilters(root) {
    each(within(root, "form.filters"), function (form) {
      if (form.parentNode.classList.contains("filters-fold")) { return; }
      var fold = document.createElement("details");
      var summary = document.createElement("summary");
      fold.className = "filters-fold";
      summary.textContent = "Filters";
      form.parentNode.insertBefore(fold, form);
      fold.appendChild(summary);
      fold.appendChild(form);
      var kept = foldOpen[foldKey(form)];
      fold.open = narrow.matches ? kept === true : true;
      fold.addEventListener("toggle", function () {
        if (narrow.matches) { foldOpen[foldKey(form)] = fold.open; }
      });
    });
  }
  narrow.addEventListener("change", function () {
    each(document.querySelectorAll(".filters-fold"), function (fold) { fold.open = !narrow.matches; });
    markScrollingWraps(document);
  });

  /* Search on a phone: after the results come back, the user is at the results' top. */
  var scrollAfter = null;
  function resultsOf(form) {
    var target = document.querySelector(form.getAttribute("hx-target") || "#results");
    var results = target && (target.querySelector("#results, .results, [id$='results']") || target);
    return results || document.getElementById("results");
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.filters, form[role='search']")) { return; }
    if (!narrow.matches) { return; }
    foldOpen[foldKey(form)] = false;
    if (form.hasAttribute("hx-get")) {
      scrollAfter = form;
    } else {
      var results = resultsOf(form);
      if (results && results.id && form.action.indexOf("#") < 0) { form.action += "#" + results.id; }
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!scrollAfter) { return; }
    var form = scrollAfter;
    scrollAfter = null;
    var fold = document.querySelector(".filters-fold");
    if (fold && narrow.matches) { fold.open = false; }
    var results = resultsOf(form.isConnected ? form : document.querySelector("form.filters") || form);
    if (results) {
      if (!results.hasAttribute("tabindex")) { results.setAttribute("tabindex", "-1"); }
      results.scrollIntoView({ block: "start" });
      results.focus({ preventScroll: true });
    }
  });

  function enhance(root) {
    labelTables(root);
    foldFilters(root);
    markScrollingWraps(document);
  }
  enhance(document);
  document.addEventListener("htmx:load", function (event) {
    var table = event.target.closest && event.target.closest("table.data");
    enhance(table || event.target);
  });
  var resizing = false;
  window.addEventListener("resize", function () {
    if (resizing) { return; }
    resizing = true;
    requestAnimationFrame(function () { resizing = false; markScrollingWraps(document); });
  });
})();
