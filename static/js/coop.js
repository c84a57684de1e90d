/* The site's own behaviour, loaded by base.html. No inline handlers: the Content-Security-Policy
   allows no 'unsafe-inline', so buttons say what they do with data- attributes. */
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-print]");
  if (button) {
    event.preventDefault();
    window.print();
  }
});
