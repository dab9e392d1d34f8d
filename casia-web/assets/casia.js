// CASIA web pages: a little enhancement; every page works without it.
(function () {
  "use strict";
  // A page that comes back with errors: focus its summary, so it is read
  // out first and its links lead to the fields.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
  // Nuevo caso: a classification choice reloads the form with the next
  // level (the page says so before the first select), and a change clears
  // the levels below it.
  var form = document.querySelector('form[action="/casos/nuevo"][method="get"]');
  if (!form) { return; }
  var order = ["tipo", "materia", "categoria", "subcategoria"];
  form.addEventListener("change", function (event) {
    var name = event.target && event.target.name;
    var at = order.indexOf(name);
    if (at < 0) { return; }
    order.slice(at + 1).forEach(function (below) {
      var select = form.elements.namedItem(below);
      if (select) { select.value = ""; }
    });
    form.submit();
  });
})();
